//go:build !linux

package main

import "errors"

func runBench([]string) error {
	return errors.New("the benchmark harness reads /proc and drives epoll: Linux only for now")
}

// serveBenchChild does nothing: the bench command starts no servers here.
func serveBenchChild() {}
