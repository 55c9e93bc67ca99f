package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

func TestWriteFileReplacesWhole(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.csv")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if string(b) != "new" {
		t.Fatalf("content %q", b)
	}
	if fi, _ := os.Stat(path); runtime.GOOS != "windows" && fi.Mode().Perm() != Mode {
		t.Fatalf("mode %v, want %v", fi.Mode().Perm(), Mode)
	}
	// A failed write leaves the old file and no temporary file.
	boom := errors.New("boom")
	if err := WriteFile(path, func(w io.Writer) error { _, _ = io.WriteString(w, "half"); return boom }); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	b, _ = os.ReadFile(path)
	entries, _ := os.ReadDir(filepath.Dir(path))
	if string(b) != "new" || len(entries) != 1 {
		t.Fatalf("after a failed write: content %q, %d entries", b, len(entries))
	}
}

func TestCreateNewIsExclusive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			errs[i] = CreateNew(path, func(w io.Writer) error { _, err := io.WriteString(w, "header\n"); return err })
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, fs.ErrExist):
			t.Fatalf("unexpected error %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d creators won, want 1", won)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("%d entries left, want only the file", len(entries))
	}
}

// deadPID is the PID of a process that has ended.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// Sweep removes the temporary files of a killed writer of the same file,
// and nothing else: not another file's, not a running process's.
func TestSweep(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "plan.jsonl")
	dead, alive := deadPID(t), os.Getpid()
	names := map[string]bool{ // name: swept
		fmt.Sprintf(".plan.jsonl.tmp-%d-123", dead):  true,
		fmt.Sprintf(".plan.jsonl.tmp-%d-456", dead):  true,
		fmt.Sprintf(".plan.jsonl.tmp-%d-789", alive): false,
		fmt.Sprintf(".other.jsonl.tmp-%d-1", dead):   false,
		"plan.jsonl": false,
	}
	for name := range names {
		_ = os.WriteFile(filepath.Join(dir, name), nil, 0o600)
	}
	if n := Sweep(path); n != 2 {
		t.Fatalf("swept %d, want 2", n)
	}
	for name, swept := range names {
		if _, err := os.Stat(filepath.Join(dir, name)); (err != nil) != swept {
			t.Errorf("%s: swept %v, want %v", name, err != nil, swept)
		}
	}
}
