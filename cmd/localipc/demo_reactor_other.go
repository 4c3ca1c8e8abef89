//go:build !linux

package main

import "fmt"

func reactorDemo(int) error {
	fmt.Printf("  %-12s the reactor's poller is not written for this platform yet\n", "reactor")
	return nil
}
