//go:build unix

package source

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestReadFileFIFO is item 9: a named pipe (and so /dev/stdin from a pipe,
// or <(cat file)) can be opened and read only once, and Load reads it once.
func TestReadFileFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "campaign.fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	data, err := os.ReadFile("testdata/semicolon.csv")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		defer f.Close()
		_, _ = f.Write(data)
	}()
	done := make(chan struct{})
	var l *Loaded
	go func() {
		defer close(done)
		l, err = Load(func(fn func(Target) error) (Info, error) { return ReadFile(path, Options{}, fn) })
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("reading the FIFO hangs")
	}
	if err != nil {
		t.Fatal(err)
	}
	if info := l.Info(); info.Rows != 3 || info.SHA256 != sha256Hex(data) {
		t.Errorf("Info = %+v, want 3 rows and the content's hash", info)
	}
}
