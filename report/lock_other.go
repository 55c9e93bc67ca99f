//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package report

import (
	"errors"
	"fmt"
	"os"
)

// Journals are locked with flock, which this platform lacks: refuse rather
// than let two runs append to one journal.
var errNoLock = errors.New("file locking is not supported on this platform (use Linux or macOS)")

func lockFile(*os.File) error   { return errNoLock }
func unlockFile(*os.File) error { return nil }

func lockError(path string, err error) error {
	return fmt.Errorf("results journal %s: lock: %w", path, err)
}
