package ledger

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofrs/flock"

	"github.com/invitectl/invitectl/pkg/atomicfile"
)

// How long LockRun looks for the description of a holder that has just
// taken the lock, and how often.
const (
	holderWait = 500 * time.Millisecond
	holderPoll = 20 * time.Millisecond
)

// ErrBusy is returned by LockRun while another process applies the plan.
var ErrBusy = errors.New("the plan is being applied by another invitectl")

// RunLock is held by the one process applying a plan for a customer.
type RunLock struct {
	lock  *flock.Flock
	owner string
}

// LockRun takes, without waiting, the lock that lets one process at a time
// apply the plan whose sha256 is planSHA for customer, whatever the journal
// and wherever the plan was copied: the lock is named by customer and plan,
// not by file. The kernel drops it when the process dies, however it dies.
// who describes the holder for a second process that is refused; the error
// then matches ErrBusy and repeats it.
func LockRun(dir, customer, planSHA, who string) (*RunLock, error) {
	if len(planSHA) < 16 || !validField(customer) {
		return nil, fmt.Errorf("run lock: invalid customer %q or plan hash %q", customer, planSHA)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("run lock: create state folder: %w", err)
	}
	base := filepath.Join(dir, customer+"."+planSHA[:16]+".run")
	l := flock.New(base+".lock", flock.SetPermissions(0o600))
	ok, err := l.TryLock()
	if err != nil {
		return nil, fmt.Errorf("run lock %s: %w", l.Path(), err)
	}
	if !ok {
		// The holder writes who it is just after it takes the lock: two
		// runs started together may look in between.
		var msg string
		for wait := holderWait; ; wait -= holderPoll {
			holder, _ := os.ReadFile(base)
			if msg = strings.TrimSpace(string(holder)); msg != "" || wait <= 0 {
				break
			}
			time.Sleep(holderPoll)
		}
		if msg == "" {
			msg = "another process"
		}
		return nil, fmt.Errorf("%w: %s (wait for it to end, or stop it; then resume)", ErrBusy, msg)
	}
	// Beside the lock, not in it: Windows forbids reading a locked range.
	_ = atomicfile.WriteFile(base, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "pid %d, %s\n", os.Getpid(), who)
		return err
	})
	return &RunLock{lock: l, owner: base}, nil
}

// Release drops the lock. Idempotent.
func (r *RunLock) Release() error {
	if r == nil || !r.lock.Locked() {
		return nil
	}
	_ = os.Remove(r.owner)
	return r.lock.Unlock()
}
