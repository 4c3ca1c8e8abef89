//go:build !linux

package main

import "fmt"

func reactorDemo(int) error {
	fmt.Printf("  %-12s the reactor demo drives raw Linux sockets; it is not written for this platform\n", "reactor")
	return nil
}
