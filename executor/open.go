package executor

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/invitectl/invitectl/pkg/duration"
	"github.com/invitectl/invitectl/pkg/journal"
	"github.com/invitectl/invitectl/pkg/ledger"
	"github.com/invitectl/invitectl/pkg/pace"
	"github.com/invitectl/invitectl/planner"
)

// OpenConfig names what a run applies and where its state lives.
type OpenConfig struct {
	Plan string
	// Results is the results journal; empty means PLAN.results.jsonl beside
	// the plan.
	Results string
	// Customer is the customer the caller means; empty accepts the plan's.
	Customer string
	// StateDir holds the customer's ledger and the run locks.
	StateDir string
	// MaxPlanAge refuses an older plan; zero warns after 24 hours.
	MaxPlanAge time.Duration
	// Command names the run in the ledger: apply, resume or run.
	Command string
	Now     func() time.Time
	// Confirm, when set, is asked once the plan is verified (Run.Plan and
	// Run.Warnings are set), its run lock held and an existing journal read
	// (Run.Resume), before any file is created: an error leaves nothing
	// behind.
	Confirm func(*Run) error
}

// Run is an opened plan, ready to apply: held in memory and verified, its
// journal created or reopened, its ledger read, and the plan's run lock held
// until Close.
type Run struct {
	Plan     *planner.Loaded
	PlanPath string
	Results  string
	Journal  *journal.Journal
	// Resume is what earlier runs of this journal recorded; nil for a new
	// journal. Journal.State, after Close, brings it up to date.
	Resume *journal.State
	Ledger *ledger.Ledger
	Source *ledger.Source
	// Warnings are for the administrator before anything is done.
	Warnings []string
	lock     *ledger.RunLock
	sourceID string
	sha      string // the plan's, as the run lock and the journal name it
	// todo is ToRefresh's answer by retryRejected, worked out once: the
	// journal it depends on only changes once the run starts.
	todo map[bool]Todo
}

// UsageError is a plan or journal that cannot be used as given: the
// administrator must change the command, not retry it.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

func usagef(format string, args ...any) error {
	return &UsageError{fmt.Errorf(format, args...)}
}

// futureSkew is how far in the future a plan's date may be before it is
// flagged: clocks of two machines disagree by seconds, not minutes.
const futureSkew = 5 * time.Minute

// Open opens a plan for applying. It reads the plan's header and hashes it,
// checks its customer and age, and takes the run lock of the customer and
// plan, so that two processes never apply one plan at once whatever their
// journals. Then it reads the journal's header (its ledger source: the
// ledger leaves that source's calls out) and at once the plan's items (the
// bytes hashed are the bytes applied: a plan changed in between is
// refused), the journal to resume (a journal of another plan is refused; an
// empty one is treated as absent) and the customer's ledger; after Confirm,
// it creates a new journal whole. Errors a different command would avoid
// are *UsageError; ledger.ErrBusy means another process applies the plan.
func Open(cfg OpenConfig) (_ *Run, err error) {
	now := time.Now
	if cfg.Now != nil {
		now = cfg.Now
	}
	// The header and the hash first: they name the run lock, which must be
	// held before the journal is read; then the plan's items, the journal
	// and the ledger are read at once.
	h, sha, err := planner.Peek(cfg.Plan)
	if err != nil {
		return nil, &UsageError{err}
	}
	switch {
	case cfg.Customer == "":
	case cfg.Customer != h.Customer:
		return nil, usagef("plan %s is for customer %s, not %s", cfg.Plan, h.Customer, cfg.Customer)
	}
	r := &Run{PlanPath: cfg.Plan, Results: cfg.Results, sha: sha}
	age := now().Sub(h.CreatedAt)
	switch {
	case age < -futureSkew && cfg.MaxPlanAge > 0:
		return nil, usagef("plan %s is dated %s, %s in the future: its age cannot be checked against --max-plan-age (is a clock wrong?); plan again", cfg.Plan, h.CreatedAt.Format(time.RFC3339), duration.Format((-age).Round(time.Minute)))
	case age < -futureSkew:
		r.Warnings = append(r.Warnings, fmt.Sprintf("plan %s is dated %s, %s in the future: a clock is wrong on this machine or on the one that made it", cfg.Plan, h.CreatedAt.Format(time.RFC3339), duration.Format((-age).Round(time.Minute))))
	case cfg.MaxPlanAge > 0 && age > cfg.MaxPlanAge:
		return nil, usagef("plan %s was made %s ago, more than --max-plan-age %s: plan again", cfg.Plan, duration.Format(age.Round(time.Minute)), duration.Format(cfg.MaxPlanAge))
	case age > 24*time.Hour:
		r.Warnings = append(r.Warnings, fmt.Sprintf("plan %s was made %s ago; invitations may have changed since (apply refreshes their states before acting; refuse old plans with --max-plan-age)", cfg.Plan, duration.Format(age.Round(time.Hour))))
	}
	if r.Results == "" {
		r.Results = strings.TrimSuffix(cfg.Plan, ".jsonl") + ".results.jsonl"
	}
	absResults, err := filepath.Abs(r.Results)
	if err != nil {
		return nil, err
	}
	absPlan, err := filepath.Abs(cfg.Plan)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = r.Close()
		}
	}()
	r.lock, err = ledger.LockRun(cfg.StateDir, h.Customer, sha, "journal "+absResults)
	if err != nil {
		return nil, err
	}
	// An existing journal is read before confirmation, so that Confirm
	// knows what is left; a new one is created only after it.
	var wg sync.WaitGroup
	var planErr, journalErr, ledgerErr error
	wg.Go(func() {
		p, err := planner.Load(cfg.Plan)
		switch {
		case err != nil:
			planErr = &UsageError{err}
		case p.SHA256 != sha:
			planErr = usagef("plan %s changed while it was being read (sha256 %.12s…, then %.12s…): is it being written? Run the command again", cfg.Plan, sha, p.SHA256)
		default:
			r.Plan = p
		}
	})
	wg.Go(func() { journalErr = r.reopenJournal() })
	// The ledger need not keep this journal's own calls: the journal
	// settles them, and they never stop its sends. A journal that cannot
	// be read keeps everything here and fails in reopenJournal.
	var own string
	if jh, err := journal.ReadHeader(r.Results); err == nil && jh.Plan.SHA256 == sha {
		own = jh.LedgerSource
	}
	wg.Go(func() {
		r.Ledger, ledgerErr = ledger.Open(cfg.StateDir, h.Customer, ledger.Options{Since: h.CreatedAt, Own: own})
	})
	wg.Wait()
	// The plan's error first: it is what the administrator must fix first.
	for _, err := range []error{planErr, journalErr, ledgerErr} {
		if err != nil {
			return nil, err
		}
	}
	if own != "" && own != r.sourceID {
		// The ledger left out calls of a source that is not this run's:
		// they would no longer stop its sends.
		return nil, fmt.Errorf("journal %s changed while it was being opened (ledger source %s, then %s): run the command again", r.Results, own, r.sourceID)
	}
	if cfg.Confirm != nil {
		if err := cfg.Confirm(r); err != nil {
			return nil, err
		}
	}
	if r.Journal == nil {
		if err := r.createJournal(absPlan); err != nil {
			return nil, err
		}
	}
	r.Source = &ledger.Source{ID: r.sourceID, Command: cfg.Command, PlanSHA: sha, Plan: absPlan, Journal: absResults}
	return r, nil
}

// reopenJournal reopens an existing journal to resume; it leaves r.Journal
// nil when there is none (an empty file counts as none).
func (r *Run) reopenJournal() error {
	fi, err := os.Stat(r.Results)
	switch {
	case err == nil && fi.Size() == 0:
		// Nothing was ever recorded there, and with the run lock held no
		// run of this plan is writing it.
		if err := os.Remove(r.Results); err != nil {
			return fmt.Errorf("remove the empty journal %s: %w", r.Results, err)
		}
	case err == nil:
		j, st, err := journal.Open(r.Results)
		if err != nil {
			return &UsageError{err} // not a journal, or a corrupt one
		}
		if st.Header.Plan.SHA256 != r.sha {
			_ = j.Close()
			if same, _ := filepath.Abs(r.PlanPath); same == st.Header.Plan.Path {
				return usagef("the plan %s has changed since the journal %s was made (planned again or edited: sha256 %.12s…, now %.12s…); the journal's plan is gone: apply the new plan with another journal (--results NEW.jsonl)",
					r.PlanPath, r.Results, st.Header.Plan.SHA256, r.sha)
			}
			return usagef("results %s record another plan (%s, sha256 %.12s…), not %s: pass --results NEW.jsonl to start afresh",
				r.Results, st.Header.Plan.Path, st.Header.Plan.SHA256, r.PlanPath)
		}
		r.Journal, r.Resume = j, st
		// A journal from before the ledger gets an ID for this run.
		r.sourceID = st.Header.LedgerSource
		if r.sourceID == "" {
			r.sourceID = ledger.NewSource().ID
		}
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	return nil
}

// createJournal creates the journal whole.
func (r *Run) createJournal(absPlan string) error {
	h := r.Plan.Header
	r.sourceID = ledger.NewSource().ID
	var err error
	r.Journal, err = journal.Create(r.Results, journal.Header{
		Customer: h.Customer, APIVersion: h.APIVersion, LedgerSource: r.sourceID,
		Plan: journal.PlanRef{Path: absPlan, SHA256: r.Plan.SHA256, Items: r.Plan.Len()},
	})
	if errors.Is(err, fs.ErrExist) {
		return &UsageError{err}
	}
	return err
}

// Close closes the journal and the ledger and releases the run lock.
func (r *Run) Close() error {
	var errs []error
	if r.Journal != nil {
		errs = append(errs, r.Journal.Close())
	}
	if r.Ledger != nil {
		errs = append(errs, r.Ledger.Close())
	}
	errs = append(errs, r.lock.Release())
	return errors.Join(errs...)
}

// Learned is what the last run learned of the quota, to start from: this
// journal's, else the plan's; nil when neither learned anything.
func (r *Run) Learned() *pace.State {
	if r.Resume != nil && r.Resume.Pace != nil {
		return r.Resume.Pace
	}
	return r.Plan.Header.Pace
}

// Items streams the plan's items, as read by Open.
func (r *Run) Items() Items { return r.Plan.Each }

// ToRefresh returns the send and cancel items this run will call for
// afresh: not finished by an earlier run (unless retried), and not left
// pending or in doubt by one (those are settled by reading them back).
func (r *Run) ToRefresh(retryRejected bool) Todo {
	if t, ok := r.todo[retryRejected]; ok {
		return t // the confirmation's count walked the plan already
	}
	// At most every send and cancel: 4 bytes each.
	out := Todo{plan: r.Plan, at: make([]int32, 0, r.Plan.Summary.Send+r.Plan.Summary.Cancel)}
	for i := range r.Plan.Len() {
		if r.afresh(i, retryRejected) {
			out.at = append(out.at, int32(i))
		}
	}
	if r.todo == nil {
		r.todo = map[bool]Todo{}
	}
	r.todo[retryRejected] = out
	return out
}

// afresh reports whether the run calls for plan item i afresh (ToRefresh),
// without building the item.
func (r *Run) afresh(i int, retryRejected bool) bool {
	row, email, action := r.Plan.Brief(i)
	if action == planner.ActionNone {
		return false
	}
	if r.Resume == nil {
		return true
	}
	k := journal.ItemKey(row, email, string(action))
	if _, pending := r.Resume.Pending[k]; pending {
		return false
	}
	prev, done := r.Resume.Final(k)
	return !done || retried(prev, false, retryRejected)
}

// Work is how many send and cancel items this run has to do: those it calls
// for afresh (ToRefresh) and those an earlier run left pending, which it
// settles.
func (r *Run) Work(retryRejected bool) int {
	n := r.ToRefresh(retryRejected).Len()
	if r.Resume != nil {
		n += len(r.Resume.Pending)
	}
	return n
}
