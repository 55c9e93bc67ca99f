//go:build windows

package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// Windows cannot open a directory for writing, so Sync on one fails with
// an access or handle error: the entry is durable with the file there.
func isWindowsDirSync(err error) bool {
	return errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.ERROR_ACCESS_DENIED) || errors.Is(err, syscall.EINVAL)
}

// processAlive reports whether a process with this PID exists: on Windows
// FindProcess opens it, and fails when there is none.
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	_ = p.Release()
	return true
}
