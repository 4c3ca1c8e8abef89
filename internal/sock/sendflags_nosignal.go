//go:build dragonfly || freebsd || linux || netbsd || openbsd || solaris

package sock

import "golang.org/x/sys/unix"

// SendFlags are the flags Send passes to send(2): MSG_NOSIGNAL makes a dead
// peer an EPIPE instead of a SIGPIPE, which would reach any signal.Notify
// listener and any C code in the process.
const SendFlags = unix.MSG_NOSIGNAL
