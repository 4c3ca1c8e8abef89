// Package localipc is local inter-process communication for Go with the API
// and the behaviour of VirtualBox IPRT's RTLocalIpc: Unix domain sockets on
// Linux, the BSDs and macOS, named pipes on Windows (the blocking face; see
// "Windows" below), under IPRT's names, so that a Go program can replace an
// IPRT program or talk to one. Every Server is also a net.Listener and every Session a
// net.Conn, so net/http, gRPC, bufio and io.Copy run over them unchanged.
//
// # From IPRT to Go
//
// One row per RTLocalIpc function and flag; "differs" says where this package
// departs from IPRT, and why. The wire and the names were checked against
// IPRT's own RTLocalIpc POSIX code, VirtualBox 7.0.14 and trunk, built
// unmodified: the same socket paths for portable, RestrictToUser and native
// names, and the same bytes both ways.
//
// The Flags values are Go's, not IPRT's: IPRT's server word has
// RESTRICT_TO_USER at 0x2, its client word has ALLOW_IDENTIFICATION at 0x2 and
// RESTRICT_TO_USER at 0x4. A raw IPRT word is converted, never cast.
//
//	IPRT                                  localipc                          differs
//	RTLOCALIPC_FLAGS_NATIVE_NAME (0x1)    NativeName                        a leading '@' is a file name, as in IPRT (never Linux's abstract namespace);
//	RTLOCALIPC_C_FLAGS_NATIVE_NAME (0x1)                                    such a name reaches the kernel as "./@name", so it may be 105 bytes, not 107;
//	                                                                        its encoding is judged as RTStrValidateEncoding does (up to 6-byte sequences
//	                                                                        pass; U+FFFE, U+FFFF and surrogates fail): ErrInvalidUTF8, Status -61, -59 or -60
//	RTLOCALIPC_FLAGS_RESTRICT_TO_USER (0x2) RestrictToUser                  as IPRT trunk: $XDG_RUNTIME_DIR, /run/user/<uid> or ~/.iprt-localipc, mode 0600;
//	RTLOCALIPC_C_FLAGS_RESTRICT_TO_USER (0x4)                               trailing slashes of the directory cut to one, as RTPathAppend does;
//	                                                                        no directory at all is ErrPathNotFound (VERR_PATH_NOT_FOUND)
//	RTLOCALIPC_C_FLAGS_ALLOW_IDENTIFICATION (0x2) AllowIdentification       no effect on Unix, as in IPRT
//	RTLOCALIPC_FLAGS_* word               ServerFlagsFromIPRT(raw)          new: a bit outside RTLOCALIPC_FLAGS_VALID_MASK (0x3) is ErrInvalidFlags
//	                                      (Flags).IPRTServerFlags()         new: AllowIdentification or an unknown bit is ErrInvalidFlags
//	RTLOCALIPC_C_FLAGS_* word             ClientFlagsFromIPRT(raw)          new: a bit outside RTLOCALIPC_C_FLAGS_VALID_MASK (0x7) is ErrInvalidFlags
//	                                      (Flags).IPRTClientFlags()         new: an unknown bit is ErrInvalidFlags
//	RT_INDEFINITE_WAIT                    Infinite                          any negative timeout waits without limit
//	(name mapping)                        Path(name, flags)                 new: says where a name lives
//	RTLocalIpcServerCreate                Listen(name, flags, opts...)      a live server's name gives ErrAddressInUse (IPRT unlinks and steals it);
//	                                                                        only a stale socket is replaced, after a connect to it is refused;
//	                                                                        backlog is the system's somaxconn (IPRT: 16)
//	RTLocalIpcServerDestroy               (*Server).Close                   removes the socket file only if it is still ours; nil: no-op
//	RTLocalIpcServerListen                (*Server).AcceptSession / Accept  several goroutines may wait at once (IPRT: VERR_RESOURCE_BUSY)
//	RTLocalIpcServerCancel                (*Server).Cancel                  sticky, as in IPRT
//	RTLocalIpcServerSetAccessMode         (*Server).SetAccessMode           also WithAccessMode: in force before the first client can connect;
//	                                                                        changes only this server's own socket, never a file that replaced it
//	RTLocalIpcServerGrantGroupAccess      (*Server).GrantGroupAccess        also WithGroupAccess: in force before the first client can connect
//	RTLocalIpcSessionConnect              Dial / DialContext                a full backlog waits for room, bounded by the context (IPRT: VERR_TRY_AGAIN)
//	RTLocalIpcSessionRead (pcbRead)       (*Session).Read                   end of stream is io.EOF (IPRT: VERR_BROKEN_PIPE); len(p) == 0 is (0, nil);
//	                                                                        a peer that closed with our bytes unread resets: ErrBrokenPipe, as IPRT
//	RTLocalIpcSessionRead (no pcbRead)    (*Session).ReadFull               io.EOF before any byte, io.ErrUnexpectedEOF after some (IPRT: VERR_BROKEN_PIPE, bytes lost)
//	RTLocalIpcSessionReadNB               (*Session).ReadNB                 (0, ErrTryAgain) when empty, as VINF_TRY_AGAIN; io.EOF at the end
//	RTLocalIpcSessionWrite                (*Session).Write                  all of p or an error, with the count that went; never SIGPIPE;
//	                                                                        a reset peer is ErrBrokenPipe too (IPRT: VERR_NET_CONNECTION_RESET_BY_PEER)
//	RTLocalIpcSessionFlush                (*Session).Flush                  nothing to wait for: Write returns once the kernel has the bytes
//	RTLocalIpcSessionWaitForData          (*Session).WaitForData            Cancel wakes it with ErrCancelled (IPRT: VERR_TIMEOUT, a bug)
//	RTLocalIpcSessionCancel               (*Session).Cancel                 sticky, as in IPRT
//	RTLocalIpcSessionClose                (*Session).Close                  a second Close is ErrClosed and drops nothing
//	RTLocalIpcSessionRetain               (*Session).Retain                 math.MaxUint32 for a destroyed session (UINT32_MAX)
//	RTLocalIpcSessionRelease              (*Session).Release                0 for nil, math.MaxUint32 once destroyed
//	RTLocalIpcSessionQueryProcess         (*Session).PeerPID                also on macOS (LOCAL_PEERPID), FreeBSD 13 and later (xucred's cr_pid),
//	                                                                        NetBSD (LOCAL_PEEREID) and OpenBSD (SO_PEERCRED); ErrNotSupported on
//	                                                                        DragonFly and older FreeBSD, which record no pid
//	RTLocalIpcSessionQueryUserId          (*Session).PeerUID                also on macOS, FreeBSD and DragonFly (LOCAL_PEERCRED), NetBSD
//	                                                                        (LOCAL_PEEREID) and OpenBSD (SO_PEERCRED) (IPRT classic: Linux only)
//	RTLocalIpcSessionQueryGroupId         (*Session).PeerGID                likewise: the effective gid (xucred's first group, as getpeereid)
//	RTLocalIpcSessionVerifySameUser       (*Session).VerifySameUser         as IPRT trunk
//	IPRT status codes                     Status(err)                       every error this package returns maps to one
//
// # Errors
//
// Each sentinel (ErrCancelled, ErrTimeout, ErrBrokenPipe, ...) maps to one
// IPRT status through Status; wrapped errors map as what they wrap, and OS
// errors as IPRT's RTErrConvertFromErrno maps their errno, which stays
// reachable through errors.As. ErrClosed matches net.ErrClosed, a passed
// deadline matches os.ErrDeadlineExceeded and is a net.Error whose Timeout is
// true, and ErrTimeout matches os.ErrDeadlineExceeded too.
//
// After Cancel, every session call except Close, Release, Retain and Flush
// returns ErrCancelled, even with data waiting, and so do calls blocked at the
// time. After the last reference is gone (Close or Release) every call
// returns ErrClosed: closed wins over cancelled.
//
// # Concurrency
//
// Every method may be called from any goroutine. One reader and one writer
// may work on a session at the same time (IPRT's POSIX code is half-duplex
// and fails the second with VERR_CONCURRENT_ACCESS); further readers, or
// writers, queue as in Go's net package. ReadNB never queues: it reports
// ErrTryAgain while another reader holds the turn.
//
// # The price of never stealing a name
//
// Listen replaces a socket file only when a connect to it is refused, so a
// live server's name is never taken over. The probe is a real connection: a
// live server sees one session that ends at once. Between the probe and the
// unlink of a stale file, two servers starting together may race; the loser
// finds the winner live at its next Listen.
//
// # Modes before the first client
//
// WithAccessMode and WithGroupAccess set the socket file's mode and group
// after bind(2) and before listen(2). A connect to a socket that is not
// listening is refused, so no client can get in under the umask's mode, the
// window that IPRT's SetAccessMode after creation leaves open.
//
// # Windows
//
// A portable name N is the pipe \\.\pipe\IPRT-N, a native name the pipe
// named as given. Servers make byte-mode duplex pipes that refuse remote
// clients, with IPRT's default security descriptor (no DACL of its own: the
// creating token's default DACL applies), and keep four instances waiting
// for clients, so that a burst connects while no AcceptSession runs (IPRT
// keeps one). The first instance has FILE_FLAG_FIRST_PIPE_INSTANCE: a name
// another server holds is ErrAddressInUse, which also matches
// ERROR_ACCESS_DENIED (IPRT reports VERR_ACCESS_DENIED; Status says
// VERR_NET_ADDRESS_IN_USE, as on Unix). Dial opens the pipe overlapped with
// SECURITY_SQOS_PRESENT and SECURITY_ANONYMOUS, or SECURITY_IDENTIFICATION
// with AllowIdentification, as IPRT trunk, and retries ERROR_PIPE_BUSY until
// its context ends (IPRT fails at once with VERR_PIPE_BUSY). A session is an
// os.File over the overlapped handle, on Go's runtime completion port:
// deadlines, Cancel and Close work as on Unix.
//
//	IPRT                                  localipc on Windows               differs
//	RTLocalIpcSessionReadNB               (*Session).ReadNB                 PeekNamedPipe, then a read of what is there, as IPRT
//	RTLocalIpcSessionWaitForData          (*Session).WaitForData            PeekNamedPipe and zero-byte reads, as IPRT; no zero-byte read is left pending
//	(no IPRT call)                        (*Session).CloseWrite             ErrNotSupported: a byte-mode pipe has no half-close
//	RTLocalIpcSessionQueryProcess         (*Session).PeerPID                GetNamedPipeClientProcessId / GetNamedPipeServerProcessId
//	RTLocalIpcSessionQueryUserId/GroupId  (*Session).PeerUID / PeerGID      ErrNotSupported: a Windows user is a SID
//	RTLocalIpcSessionVerifySameUser       (*Session).VerifySameUser         the peer process's token user against ours, on both ends (IPRT's server
//	                                                                        impersonates the client instead, so an anonymous client fails there)
//	RTLocalIpcServerSetAccessMode         (*Server).SetAccessMode           ErrNotSupported, and so are GrantGroupAccess, WithAccessMode, WithGroupAccess
//	(no IPRT call)                        WithSecurityDescriptor(sddl)      the pipes' descriptor from an SDDL string instead of IPRT's default (no
//	                                                                        DACL); not with RestrictToUser; ErrNotSupported on Unix
//	RTLOCALIPC_FLAGS_RESTRICT_TO_USER     RestrictToUser                    as IPRT trunk: a portable name is \\.\pipe\LOCAL\IPRT-<session>-<logon id>-N
//	                                                                        (hex digits taken for upper case); the pipes' DACL lets in only the logon
//	                                                                        session and SYSTEM; a client checks the server's Windows session and user
//	                                                                        (ErrAccessDenied); a server drops a client of another Windows session and
//	                                                                        waits on (IPRT returns VERR_TRY_AGAIN)
//	(callback face)                       Serve, Dial WithHandler           on the loops' completion ports: max(4, loops) pending instances spread over
//	                                                                        the loops (a client's session stays on its instance's loop), reads of what
//	                                                                        has arrived after a zero-byte read, one overlapped write in flight per
//	                                                                        session; CloseWrite is ErrNotSupported, and a cancelled session reads and
//	                                                                        drops its input so that its peer's end is still seen
//
// # Metrics
//
// Server.Stats returns the counters of the reactor loops that serve a Serve
// server's sessions (sessions, bytes, events, wake-ups); Server.StatsVar
// gives them, per loop and summed, as an expvar.Var to publish on
// /debug/vars. docs/profiling.md shows reading them while a server runs.
package localipc
