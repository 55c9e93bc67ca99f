package ledger

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gofrs/flock"
)

// runLockHelperEnv makes the test binary a child that holds a run lock until
// it is killed (see TestRunLockReleasedOnKill).
const runLockHelperEnv = "INVITECTL_RUNLOCK_HELPER"

var sha = strings.Repeat("ab", 32)

func TestRunLockOnePerPlan(t *testing.T) {
	dir := t.TempDir()
	a, err := LockRun(dir, cust, sha, "journal /a.results.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	// A second run of the same plan is refused, whatever its journal, and
	// is told who holds it.
	_, err = LockRun(dir, cust, sha, "journal /b.results.jsonl")
	if !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), "/a.results.jsonl") || !strings.Contains(err.Error(), fmt.Sprint(os.Getpid())) {
		t.Fatalf("second LockRun = %v; want ErrBusy naming the first", err)
	}
	// Another plan, or the same plan for another customer, is not held.
	other, err := LockRun(dir, cust, strings.Repeat("cd", 32), "x")
	if err != nil {
		t.Fatal(err)
	}
	_ = other.Release()
	if err := a.Release(); err != nil {
		t.Fatal(err)
	}
	b, err := LockRun(dir, cust, sha, "journal /b.results.jsonl")
	if err != nil {
		t.Fatalf("LockRun after Release: %v", err)
	}
	_ = b.Release()
	_ = b.Release()
}

func TestRunLockReleasedOnKill(t *testing.T) {
	if dir := os.Getenv(runLockHelperEnv); dir != "" {
		if _, err := LockRun(dir, cust, sha, "the child"); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("locked")
		time.Sleep(time.Minute) // the parent kills us long before
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestRunLockReleasedOnKill$")
	cmd.Env = append(os.Environ(), runLockHelperEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()
	msg, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || msg != "locked\n" {
		t.Fatalf("child said %q, %v", msg, err)
	}
	if _, err := LockRun(dir, cust, sha, "parent"); !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), "the child") {
		t.Fatalf("LockRun while the child holds it: %v; want ErrBusy", err)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	l, err := LockRun(dir, cust, sha, "parent")
	if err != nil {
		t.Fatalf("LockRun after the child was killed: %v", err)
	}
	_ = l.Release()
}

// Two runs started together: the loser may look before the winner has
// written who it is, and waits a moment for it; a holder that never says
// is "another process".
func TestRunLockWaitsForTheHolderToSayWhoItIs(t *testing.T) {
	dir := t.TempDir()
	base := dir + "/" + cust + "." + sha[:16] + ".run"
	held := flockFor(t, base+".lock")
	_, err := LockRun(dir, cust, sha, "journal /b.results.jsonl")
	if !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), "another process") {
		t.Fatalf("LockRun against a silent holder = %v", err)
	}
	time.AfterFunc(100*time.Millisecond, func() { _ = os.WriteFile(base, []byte("pid 42, journal /a.results.jsonl\n"), 0o600) })
	_, err = LockRun(dir, cust, sha, "journal /b.results.jsonl")
	if !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), "pid 42, journal /a.results.jsonl") {
		t.Fatalf("LockRun while the holder writes who it is = %v", err)
	}
	_ = held.Unlock()
}

// flockFor takes the file lock at path as another process's LockRun would,
// without saying who holds it.
func flockFor(t *testing.T, path string) *flock.Flock {
	t.Helper()
	l := flock.New(path, flock.SetPermissions(0o600))
	if ok, err := l.TryLock(); err != nil || !ok {
		t.Fatalf("lock %s: %v, %v", path, ok, err)
	}
	return l
}
