//go:build unix

package session

// SetSendHook sets testHookSend until the returned func restores it.
func SetSendHook(f func()) (restore func()) {
	testHookSend = f
	return func() { testHookSend = nil }
}
