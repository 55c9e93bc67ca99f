// Package atomicfile writes files whole or not at all: the content goes to a
// temporary file beside the destination, is made durable, and only then
// appears under its name. A crash leaves either nothing or the whole file,
// never a half-written one, and no reader ever sees a partial file.
//
// Temporary files are named ".NAME.tmp-PID-RANDOM" beside NAME, so one left
// by a killed process is recognisable, and removable once its process is
// gone (see Sweep). Files are created 0600.
package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Mode is the mode of every file this package creates.
const Mode fs.FileMode = 0o600

// WriteFile replaces path with what write produces.
func WriteFile(path string, write func(io.Writer) error) error {
	return commit(path, write, false)
}

// CreateNew creates path with what write produces, and fails with an error
// matching fs.ErrExist when path already exists: two processes creating the
// same file cannot both succeed, and neither leaves an empty file behind.
func CreateNew(path string, write func(io.Writer) error) error {
	return commit(path, write, true)
}

func commit(path string, write func(io.Writer) error, exclusive bool) (err error) {
	dir := filepath.Dir(path)
	if dir == "" {
		dir = "."
	}
	f, err := CreateTemp(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if f != nil {
			_ = f.Close()
		}
		_ = os.Remove(tmp) // after a link, the second name goes; the file stays
	}()
	bw := bufio.NewWriterSize(f, 64<<10)
	if err := write(bw); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: sync: %w", path, err)
	}
	cerr := f.Close()
	f = nil
	if cerr != nil {
		return fmt.Errorf("write %s: %w", path, cerr)
	}
	if exclusive {
		// A hard link never replaces an existing name, unlike a rename.
		if err := os.Link(tmp, path); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("%s already exists: %w", path, fs.ErrExist)
			}
			return fmt.Errorf("write %s: %w", path, err)
		}
	} else if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return SyncDir(dir)
}

// SyncDir makes new, renamed or removed entries of dir durable. Platforms
// that cannot sync a directory (Windows) make the entry durable with the
// file, so their refusal is not an error.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) && !isWindowsDirSync(err) {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

func tempPrefix(base string) string { return "." + base + ".tmp-" }

// CreateTemp creates a temporary file (0600) beside path, named for path and
// this process: ".NAME.tmp-PID-RANDOM".
func CreateTemp(path string) (*os.File, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, tempPrefix(base)+strconv.Itoa(os.Getpid())+"-*")
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(Mode); err != nil {
		_ = f.Close()
		_ = os.Remove(f.Name())
		return nil, err
	}
	return f, nil
}

// Sweep removes the temporary files of path that a killed process left
// beside it (their process is gone), and returns how many it removed. Only
// names this package makes for path are touched, and never one of a
// process that still runs.
func Sweep(path string) int {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), tempPrefix(base))
		if !ok || !e.Type().IsRegular() {
			continue
		}
		pid, _, _ := strings.Cut(rest, "-")
		if p, err := strconv.Atoi(pid); err == nil && p > 0 && processAlive(p) {
			continue
		}
		if os.Remove(filepath.Join(dir, e.Name())) == nil {
			n++
		}
	}
	return n
}
