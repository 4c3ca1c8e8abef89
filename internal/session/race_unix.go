//go:build unix && race

package session

import "syscall"

// releaseIO tells the race detector that what this goroutine did so far
// happens before whatever a reader does after it reads the bytes about to
// be sent, as syscall.Write tells it for its own writes (and syscall.Read,
// under os.File.Read, acquires): the kernel orders the two, which the
// detector cannot see. A direct send is a raw sendto, so it says so by a
// syscall.Write that fails at once on no descriptor. Race builds only.
func releaseIO() { syscall.Write(-1, nil) }
