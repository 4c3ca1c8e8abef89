//go:build unix

package session

// SetSendHook sets testHookSend until the returned func restores it. A test
// that sets it runs alone (no t.Parallel) and lets no writer outlive it:
// the hook is a plain variable, read by every Write.
func SetSendHook(f func()) (restore func()) {
	testHookSend = f
	return func() { testHookSend = nil }
}
