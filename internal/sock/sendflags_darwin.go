package sock

// SendFlags are the flags Send passes to send(2). None here: every socket
// carries SO_NOSIGPIPE (see newSocket), so a dead peer is EPIPE, not a signal.
const SendFlags = 0
