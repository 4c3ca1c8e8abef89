//go:build !linux && !windows

package main

import "errors"

func runBench([]string) error {
	return errors.New("the benchmark harness runs on Linux and Windows only")
}

// serveBenchChild does nothing: the bench command starts no servers here.
func serveBenchChild() {}
