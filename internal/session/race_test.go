//go:build race && unix

package session_test

const raceEnabled = true
