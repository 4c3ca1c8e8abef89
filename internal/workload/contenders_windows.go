package workload

// Builtin returns the contenders Windows has: localipc's faces over named
// pipes. Go's net has no named pipes, and raw is an epoll loop, so there is
// no reference of another library here: ratios are to the blocking face.
func Builtin() []Contender {
	return []Contender{
		{Name: "localipc-blocking", Serve: serveLocalipcBlocking},
		{Name: "localipc-callback", Serve: serveLocalipcCallback},
		{Name: "localipc-wait", Serve: serveLocalipcWait},
	}
}

// Reference is the contender the others are compared with.
const Reference = "localipc-blocking"
