package ipcerr

// errnoSentinels is empty until the Windows port decides which Win32 codes
// stand for which sentinel; syscall's E* names there are Go's inventions that
// no Windows call returns, so mapping them would only mislead.
var errnoSentinels []errnoSentinel
