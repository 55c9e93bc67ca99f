//go:build !windows

package main

import (
	"errors"
	"syscall"
)

// closedPipe reports whether err is a write to a pipe that nobody reads
// any more.
func closedPipe(err error) bool { return errors.Is(err, syscall.EPIPE) }
