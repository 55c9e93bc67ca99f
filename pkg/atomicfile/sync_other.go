//go:build !windows

package atomicfile

import (
	"errors"
	"syscall"
)

func isWindowsDirSync(error) bool { return false }

// processAlive reports whether a process with this PID exists: signal 0
// checks without sending anything (EPERM means it exists, as another user's).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
