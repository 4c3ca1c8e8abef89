//go:build !linux

package reactor

// DefaultWaitMode is the wait mode of New without WithWaitMode, and of
// Default's reactor. WaitAdaptive was measured on Linux only, where its spin
// yields the CPU between polls; here the default stays WaitBusy.
const DefaultWaitMode = WaitBusy
