package localipc

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
	"unsafe"

	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/localipc/localipc/internal/session"
	"github.com/localipc/localipc/internal/sock"
	"golang.org/x/sys/windows"
)

// endpoint is a server's name and its pending pipe instances on Windows: a
// backlog of instances, each with an overlapped ConnectNamedPipe on an event
// of its own, so that a burst of clients connects while no AcceptSession
// runs (IPRT keeps one instance, and a second client meanwhile gets
// ERROR_PIPE_BUSY). The instances are on no completion port: a handle on one
// cannot go to the runtime's later, and session.New's os.NewFile must be the
// first to put it on a port.
//
// AcceptSession waits in WaitForMultipleObjects on the cancel event and the
// instances' events, holding a thread as IPRT's Listen does. Cancel and Close
// set the cancel event, a manual-reset one that is never reset: every waiter
// wakes, now and later (a broadcast, not a token that one waiter takes).
type endpoint struct {
	path string
	*pipes
}

// pipes is an endpoint's state, apart from its path: the endpoint is a
// value in Server, and this holds locks.
type pipes struct {
	path    string
	name    *uint16
	saFirst *windows.SecurityAttributes // of the first instance
	sa      *windows.SecurityAttributes // of the others

	// RestrictToUser: a client from another Windows session is dropped, as
	// IPRT trunk rejects it.
	restricted bool
	session    uint32
	cancel     windows.Handle // manual-reset, set by interrupt, never reset

	// Serve's: the first instance, made by listen to claim the name, until
	// the acceptor puts it on a loop (serve_windows.go); the rest of this
	// struct is AcceptSession's.
	first windows.Handle

	mu      sync.Mutex
	cond    sync.Cond // signalled when waiters falls to 0
	slots   [backlog]slot
	waiters int  // accepts inside WaitForMultipleObjects
	closing bool // close has begun: no accept may start waiting
}

// backlog is how many instances wait for clients at once (libuv's default).
const backlog = 4

// pipeBuffer is each pipe's buffer size, each way (advisory to Windows).
const pipeBuffer = 64 << 10

// slot is one place of the backlog. Its event lives as long as the endpoint,
// because an accept may be waiting on it; its instance changes.
type slot struct {
	ev   windows.Handle // manual-reset; signalled by the connect's completion
	inst *instance      // nil if re-arming it failed
}

// instance is one pipe instance and its connect. It is on the heap, and
// nothing frees or reuses it while its connect is in flight: the kernel
// writes to its OVERLAPPED until the completion, also after CancelIoEx.
type instance struct {
	h         windows.Handle
	ov        windows.Overlapped
	pending   bool // the connect is in flight
	connected bool // a client is there (the connect completed, or ERROR_PIPE_CONNECTED)
}

// lost keeps instances whose connect never completed after Close cancelled
// it and closed the handle (see drain): their OVERLAPPED stays valid for as
// long as the kernel might still write to it, that is, for ever.
var lost struct {
	sync.Mutex
	insts []*instance
}

// The pipes are byte-mode and duplex, as IPRT makes them, refuse remote
// clients, and take any number of instances.
const (
	pipeOpenMode = windows.PIPE_ACCESS_DUPLEX | windows.FILE_FLAG_OVERLAPPED
	pipeMode     = windows.PIPE_TYPE_BYTE | windows.PIPE_READMODE_BYTE | windows.PIPE_WAIT | windows.PIPE_REJECT_REMOTE_CLIENTS
)

// defaultSDDL is IPRT's default security descriptor for a pipe: one without a
// DACL (IPRT builds one but never attaches it, and trunk keeps that on
// purpose), so the pipe gets the creating token's default DACL.
const defaultSDDL = ""

// listen creates the first instance (FILE_FLAG_FIRST_PIPE_INSTANCE: a name
// another server holds is ErrAddressInUse) and, for AcceptSession, the rest
// of the backlog, each with its connect started on an event. Serve's
// listener (parkable false) gets the first instance only, with no connect:
// its acceptor puts the instances on the loops' completion ports.
func listen(path string, flags Flags, o *options, parkable bool) (endpoint, error) {
	if o.mode != 0 || o.group >= 0 {
		return endpoint{}, fmt.Errorf("%w: an access mode or group on Windows, where a pipe has a DACL", ErrNotSupported)
	}
	name, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return endpoint{}, fmt.Errorf("%w %q: %v", ErrInvalidName, path, err)
	}
	e := &pipes{path: path, name: name}
	firstSDDL, restSDDL := defaultSDDL, defaultSDDL
	if o.sddl != nil {
		if flags&RestrictToUser != 0 {
			return endpoint{}, errSDDLWithRestrict
		}
		firstSDDL, restSDDL = *o.sddl, *o.sddl
	}
	if flags&RestrictToUser != 0 {
		id, err := ownIdentity()
		if err != nil {
			return endpoint{}, err
		}
		e.restricted, e.session = true, id.session
		firstSDDL, restSDDL = restrictedSDDL(id, true), restrictedSDDL(id, false)
	}
	if e.saFirst, err = securityAttributes(firstSDDL, path); err != nil {
		return endpoint{}, err
	}
	if e.sa, err = securityAttributes(restSDDL, path); err != nil {
		return endpoint{}, err
	}
	e.cond.L = &e.mu
	if !parkable {
		if e.first, err = e.create(true); err != nil {
			return endpoint{}, claimError(path, err)
		}
		return endpoint{path: path, pipes: e}, nil
	}
	if e.cancel, err = windows.CreateEvent(nil, 1, 0, nil); err != nil {
		return endpoint{}, ipcerr.OSError("CreateEvent", path, err)
	}
	for i := range e.slots {
		ev, err := windows.CreateEvent(nil, 1, 0, nil)
		if err == nil {
			e.slots[i].ev = ev
			e.slots[i].inst, err = e.arm(ev, i == 0)
		}
		if err != nil {
			e.teardown()
			if i == 0 {
				return endpoint{}, claimError(path, err)
			}
			return endpoint{}, err
		}
	}
	return endpoint{path: path, pipes: e}, nil
}

var errSDDLWithRestrict = fmt.Errorf("%w: RestrictToUser sets the pipe's DACL itself; WithSecurityDescriptor cannot go with it", ErrInvalidFlags)

// claimError is the failure of a name's first instance: Windows refuses one
// (ERROR_ACCESS_DENIED) for a name that has instances already, which another
// server holds.
func claimError(path string, err error) error {
	if errors.Is(err, windows.ERROR_ACCESS_DENIED) {
		return &addrInUse{path: path, err: err}
	}
	return err
}

// securityAttributes makes the SECURITY_ATTRIBUTES of a pipe from an SDDL
// string; the handle is not inherited.
func securityAttributes(sddl, path string) (*windows.SecurityAttributes, error) {
	sd, err := windows.SecurityDescriptorFromString(sddl)
	if err != nil {
		return nil, ipcerr.OSError("ConvertStringSecurityDescriptorToSecurityDescriptor", path, err)
	}
	sa := &windows.SecurityAttributes{SecurityDescriptor: sd}
	sa.Length = uint32(unsafe.Sizeof(*sa))
	return sa, nil
}

// addrInUse is Listen on a name that another server holds: ErrAddressInUse,
// with Windows' ERROR_ACCESS_DENIED (which is IPRT's status for it) behind.
type addrInUse struct {
	path string
	err  error
}

func (e *addrInUse) Error() string {
	return "localipc: listen " + e.path + ": address in use (" + windows.ERROR_ACCESS_DENIED.Error() + ")"
}

// Unwrap gives ErrAddressInUse and the CreateNamedPipe error (an OSError
// around ERROR_ACCESS_DENIED).
func (e *addrInUse) Unwrap() []error {
	return []error{ErrAddressInUse, e.err}
}

// create makes a pipe instance of the endpoint, on no completion port and
// with no connect started.
func (e *pipes) create(first bool) (windows.Handle, error) {
	mode, sa := uint32(pipeOpenMode), e.sa
	if first {
		mode |= windows.FILE_FLAG_FIRST_PIPE_INSTANCE
		sa = e.saFirst
	}
	h, err := windows.CreateNamedPipe(e.name, mode, pipeMode, windows.PIPE_UNLIMITED_INSTANCES,
		pipeBuffer, pipeBuffer, 0, sa)
	if err != nil {
		return 0, ipcerr.OSError("CreateNamedPipe", e.path, err)
	}
	return h, nil
}

// arm creates a pipe instance and starts its overlapped connect on ev.
func (e *pipes) arm(ev windows.Handle, first bool) (*instance, error) {
	h, err := e.create(first)
	if err != nil {
		return nil, err
	}
	inst := &instance{h: h}
	if err := inst.connect(ev); err != nil {
		windows.CloseHandle(h)
		return nil, ipcerr.OSError("ConnectNamedPipe", e.path, err)
	}
	return inst, nil
}

// connect starts the instance's overlapped connect on ev. A client that came
// between CreateNamedPipe and the connect (ERROR_PIPE_CONNECTED) is a
// success with no completion to come, so ev is set for the waiters.
func (inst *instance) connect(ev windows.Handle) error {
	windows.ResetEvent(ev)
	inst.ov = windows.Overlapped{HEvent: ev}
	switch err := windows.ConnectNamedPipe(inst.h, &inst.ov); err {
	case windows.ERROR_IO_PENDING:
		inst.pending = true
	case nil, windows.ERROR_PIPE_CONNECTED:
		inst.connected = true
		windows.SetEvent(ev)
	default:
		return err
	}
	return nil
}

// accept waits for a client on any instance and returns its handle, with a
// fresh instance armed in its place. woken says that Cancel or Close woke
// the wait; err is anything else that stopped it.
func (e *pipes) accept() (h uintptr, woken bool, err error) {
	handles := make([]windows.Handle, 0, 1+backlog)
	for {
		e.mu.Lock()
		if e.closing {
			e.mu.Unlock()
			return 0, true, nil
		}
		e.rearm()
		handles = append(handles[:0], e.cancel)
		for i := range e.slots {
			handles = append(handles, e.slots[i].ev)
		}
		e.waiters++
		e.mu.Unlock()

		// The cancel event is first: WaitForMultipleObjects reports the
		// lowest signalled index, so a cancel wins over a client.
		r, werr := windows.WaitForMultipleObjects(handles, false, windows.INFINITE)

		e.mu.Lock()
		if e.waiters--; e.waiters == 0 {
			e.cond.Broadcast()
		}
		switch {
		case werr != nil:
			e.mu.Unlock()
			return 0, false, ipcerr.OSError("WaitForMultipleObjects", e.path, werr)
		case r == windows.WAIT_OBJECT_0:
			e.mu.Unlock()
			return 0, true, nil
		}
		i := int(r - windows.WAIT_OBJECT_0 - 1)
		if i < 0 || i >= backlog {
			e.mu.Unlock()
			continue
		}
		h, err := e.take(i)
		e.mu.Unlock()
		if h != 0 && e.restricted && !sameSession(windows.Handle(h), e.session) {
			closeHandle(h)
			continue
		}
		if h != 0 || err != nil {
			return h, false, err
		}
	}
}

// take collects slot i's connect if it has completed and, when a client is
// there, returns its handle and arms a fresh instance in the slot. 0 and nil:
// nothing to take (another accept took it first, or the client had gone).
// Caller holds mu.
func (e *pipes) take(i int) (uintptr, error) {
	s := &e.slots[i]
	inst := s.inst
	if inst == nil {
		return 0, nil
	}
	if inst.pending {
		var n uint32
		err := windows.GetOverlappedResult(inst.h, &inst.ov, &n, false)
		if err == windows.ERROR_IO_INCOMPLETE {
			return 0, nil // not yet: a stale wake-up
		}
		inst.pending = false
		switch err {
		case nil, windows.ERROR_PIPE_CONNECTED:
			inst.connected = true
		case windows.ERROR_NO_DATA:
			// A client connected and left already: disconnect it and wait
			// for the next one on the same instance.
			windows.DisconnectNamedPipe(inst.h)
			if err := inst.connect(s.ev); err == nil {
				return 0, nil
			}
			fallthrough
		default:
			windows.CloseHandle(inst.h)
			s.inst = nil
			windows.ResetEvent(s.ev)
			return 0, ipcerr.OSError("ConnectNamedPipe", e.path, err)
		}
	}
	if !inst.connected {
		return 0, nil
	}
	s.inst = nil
	windows.ResetEvent(s.ev)
	e.rearm()
	return uintptr(inst.h), nil
}

// rearm gives every empty slot a fresh instance; one that fails stays empty
// and is tried again by the next accept. Caller holds mu.
func (e *pipes) rearm() {
	for i := range e.slots {
		if e.slots[i].inst == nil {
			e.slots[i].inst, _ = e.arm(e.slots[i].ev, false)
		}
	}
}

// interrupt wakes every AcceptSession, and every later one at once.
func (e *endpoint) interrupt() { windows.SetEvent(e.cancel) }

// release: a pipe name goes with its last instance; there is no file.
func (e *endpoint) release() error { return nil }

// close waits until no accept is waiting (interrupt woke them), then cancels
// every pending connect, waits for its completion, and closes the instances
// and the events. A client connected to an instance no accept took sees its
// pipe broken.
func (e *endpoint) close() error {
	e.mu.Lock()
	e.closing = true
	windows.SetEvent(e.cancel)
	for e.waiters > 0 {
		e.cond.Wait()
	}
	e.mu.Unlock()
	e.teardown()
	return nil
}

// teardown closes what listen made; no accept is waiting.
func (e *pipes) teardown() {
	for i := range e.slots {
		s := &e.slots[i]
		if s.inst != nil {
			s.inst.drain()
			s.inst = nil
		}
		if s.ev != 0 {
			windows.CloseHandle(s.ev)
			s.ev = 0
		}
	}
	if e.cancel != 0 {
		windows.CloseHandle(e.cancel)
		e.cancel = 0
	}
}

// drain cancels the instance's connect, waits for its completion, and
// closes the handle. The wait is bounded: a connect that does not complete
// after CancelIoEx is ended by closing the handle, and one that does not
// complete even then keeps its OVERLAPPED alive in lost rather than hang
// Close (go-winio #357) or free memory the kernel may write.
func (inst *instance) drain() {
	if inst.pending {
		windows.CancelIoEx(inst.h, &inst.ov)
		if !inst.waitConnect(5 * time.Second) {
			windows.CloseHandle(inst.h)
			inst.h = 0
			if !inst.waitConnect(5 * time.Second) {
				lost.Lock()
				lost.insts = append(lost.insts, inst)
				lost.Unlock()
				return
			}
		}
		inst.pending = false
	}
	if inst.h != 0 {
		windows.CloseHandle(inst.h)
	}
}

// waitConnect waits at most d for the connect's completion.
func (inst *instance) waitConnect(d time.Duration) bool {
	r, _ := windows.WaitForSingleObject(inst.ov.HEvent, uint32(d/time.Millisecond))
	if r != windows.WAIT_OBJECT_0 {
		return false
	}
	if inst.h != 0 {
		var n uint32
		if windows.GetOverlappedResult(inst.h, &inst.ov, &n, false) == windows.ERROR_IO_INCOMPLETE {
			return false
		}
	}
	return true
}

func (e *endpoint) chmod(os.FileMode) error {
	return fmt.Errorf("%w: SetAccessMode on Windows, where a pipe has a DACL", ErrNotSupported)
}

func (e *endpoint) chown(int) error {
	return fmt.Errorf("%w: GrantGroupAccess on Windows, where a pipe has a DACL", ErrNotSupported)
}

// peerCredOf returns the client's pid, as its pipe recorded it.
func peerCredOf(h uintptr) (sock.Cred, error) { return session.PeerCredOf(h) }

// closeHandle closes a handle that never became a session.
func closeHandle(h uintptr) { windows.CloseHandle(windows.Handle(h)) }
