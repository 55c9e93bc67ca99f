// Package executor applies a plan: a worker pool sends and cancels at the
// API's pace, records an intent durably before every mutating call, reads
// the invitation back whenever an outcome is unknown before deciding to call
// again, and stops gracefully on interrupt. The results journal it writes
// is the checkpoint a later run resumes from.
package executor

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/journal"
	"github.com/invitectl/invitectl/pkg/ledger"
	"github.com/invitectl/invitectl/pkg/pace"
	"github.com/invitectl/invitectl/planner"
)

// Client is what applying needs of the API.
type Client interface {
	Get(ctx context.Context, email string) (invitations.Invitation, error)
	Send(ctx context.Context, email string) (invitations.Result, error)
	Cancel(ctx context.Context, email string) (invitations.Result, error)
}

// Journal records intents and outcomes; Append returns once they are durable.
type Journal interface {
	Append(recs ...journal.Record) error
	AppendAsync(recs ...journal.Record)
}

// Items streams the plan's items in order; fn's error stops it.
type Items func(fn func(planner.Item) error) error

// Config is everything Apply needs besides the plan.
type Config struct {
	Client  Client
	Journal Journal
	// Resume is what an earlier run recorded; nil for a fresh journal.
	Resume *journal.State
	// Write paces sends and cancels, Read the reconciling gets.
	Write, Read *pace.Limiter
	// MaxWorkers caps the calls in flight; the window sizes itself below it
	// from the rate and the latency. Zero means 256.
	MaxWorkers int
	Retry      pace.Policy
	// RetryInDoubt reconciles and, when provably not done, retries items an
	// earlier run left in_doubt.
	RetryInDoubt bool
	// Drain bounds how long calls in flight may finish after an interrupt.
	// Zero means 30 s.
	Drain time.Duration
	Now   func() time.Time
	// Logger receives retries, read-backs and outcomes other than done at
	// debug level; nil logs nothing.
	Logger *slog.Logger

	// Ledger is the customer's ledger and Source this journal's identity in
	// it: before the first call for an address the intent is reserved there,
	// and a call by another source since PlanCreated (or one still pending)
	// skips the item. A nil Ledger skips that guard.
	Ledger      *ledger.Ledger
	Source      *ledger.Source
	PlanCreated time.Time
	// Moved holds, by address, the items whose invitation moved since the
	// plan (see Refresh), with the state now: they are skipped.
	Moved map[string]string
	// SettleDelay is how long after a call's intent a request can still
	// land: a read-back showing no change proves nothing before it. Zero
	// means DefaultSettleDelay.
	SettleDelay time.Duration
	// RetryRejected takes up again the items an earlier run ended rejected.
	RetryRejected bool
	// Judge tells one address's refusal (a 403, 404 or 400 while other
	// calls succeed) from a credential failure; nil treats a bare 403 as a
	// credential failure.
	Judge *invitations.Judge
	// Limit, when positive, is the most send and cancel items this run
	// takes up (items settled without a call do not count); the rest are
	// left without an outcome for a later run (Stats.Deferred).
	Limit int
}

// DefaultSettleDelay outlasts any request: the client gives up on a call
// after 60 s (invitations.Config.CallTimeout), and a request held in
// Google's front end past that is assumed to land within another minute.
const DefaultSettleDelay = 2 * time.Minute

// Stats count a run's progress; safe to read while Apply runs.
type Stats struct {
	Total                                    atomic.Int64
	Done, Skipped, Rejected, Failed, InDoubt atomic.Int64
	Reconciled, Retries, QuotaErrors, Calls  atomic.Int64
	// EarlierProblems counts items skipped because an earlier run ended
	// them rejected, failed or in doubt.
	EarlierProblems atomic.Int64
	// Conflicts counts items skipped because another journal or command
	// acted on the address (already_sent, in_flight); Moved those skipped
	// because their invitation moved since the plan.
	Conflicts, Moved atomic.Int64
	// Parked is how many items wait, now, for the settle delay.
	Parked atomic.Int64
	// Deferred counts the items Config.Limit left for a later run.
	Deferred atomic.Int64
}

// Finished is the number of items with an outcome this run.
func (s *Stats) Finished() int64 {
	return s.Done.Load() + s.Skipped.Load() + s.Rejected.Load() + s.Failed.Load() + s.InDoubt.Load()
}

// Problems is the number of items that ended rejected, failed or in doubt,
// in this run or, for items it skipped, in an earlier one.
func (s *Stats) Problems() int64 {
	return s.Rejected.Load() + s.Failed.Load() + s.InDoubt.Load() + s.EarlierProblems.Load()
}

// countEarlier counts a skipped item whose earlier outcome needs attention.
func (s *Stats) countEarlier(outcome string) {
	if journal.NeedsAttention(outcome) {
		s.EarlierProblems.Add(1)
	}
}

// ErrInterrupted is returned when the run stopped on request before every
// item was finished; what was done is recorded.
var ErrInterrupted = errors.New("interrupted")

// Apply executes the send and cancel items. It returns ErrInterrupted when
// ctx ends first, an authentication error as soon as one happens (the run
// stops), or nil; per-item failures are outcomes, counted in stats.
func Apply(ctx context.Context, cfg Config, items Items, stats *Stats) error {
	if stats == nil {
		stats = new(Stats)
	}
	r := newRun(ctx, cfg, stats)
	defer r.stopCalls()

	work := make(chan planner.Item)
	var wg sync.WaitGroup
	for range r.cfg.MaxWorkers {
		wg.Go(func() {
			for it := range work {
				r.process(it)
			}
		})
	}
	err := items(func(it planner.Item) error {
		if r.stopped() {
			return ErrInterrupted
		}
		if !r.admit(it) {
			return nil
		}
		select {
		case work <- it:
			return nil
		case <-r.halt.Done():
			return ErrInterrupted
		}
	})
	close(work)
	wg.Wait()
	r.parked.Wait()

	if fatal := r.fatal.Load(); fatal != nil {
		return *fatal
	}
	if err != nil && !errors.Is(err, ErrInterrupted) {
		return err
	}
	if r.stopped() {
		return ErrInterrupted
	}
	return nil
}

// run is one Apply's shared state.
type run struct {
	cfg   Config
	stats *Stats
	// halt ends when the caller interrupts or an auth failure stops the run:
	// nothing new starts. calls ends Drain later: calls in flight are cut.
	halt      context.Context
	stopHalt  context.CancelFunc
	calls     context.Context
	stopCalls context.CancelFunc
	window    *pace.Window
	fatal     atomic.Pointer[error]
	now       func() time.Time
	log       *slog.Logger
	// parked are the items waiting out the settle delay.
	parked      sync.WaitGroup
	settleDelay time.Duration
	// taken counts the items admitted towards Config.Limit; only admit,
	// which runs on one goroutine, touches it.
	taken int
}

func newRun(ctx context.Context, cfg Config, stats *Stats) *run {
	if cfg.MaxWorkers <= 0 {
		cfg.MaxWorkers = 256
	}
	if cfg.Drain <= 0 {
		cfg.Drain = 30 * time.Second
	}
	r := &run{cfg: cfg, stats: stats, now: cfg.Now, log: cfg.Logger, settleDelay: cfg.SettleDelay}
	if r.settleDelay <= 0 {
		r.settleDelay = DefaultSettleDelay
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.halt, r.stopHalt = context.WithCancel(ctx)
	r.calls, r.stopCalls = context.WithCancel(context.WithoutCancel(ctx))
	context.AfterFunc(r.halt, func() {
		t := time.AfterFunc(cfg.Drain, r.stopCalls)
		context.AfterFunc(r.calls, func() { t.Stop() })
	})
	r.window = pace.NewWindow(cfg.Write, cfg.MaxWorkers)
	return r
}

func (r *run) stopped() bool { return r.halt.Err() != nil }

// admit counts an item and settles, without any call, those that need
// none: plan items with action none, and items an earlier run finished.
// It reports whether the item goes to a worker.
func (r *run) admit(it planner.Item) bool {
	r.stats.Total.Add(1)
	prev, seen := r.final(it)
	if it.Action == planner.ActionNone {
		if !seen {
			r.record(it, outcome{kind: journal.OutcomeSkipped, message: "nothing to do: " + it.Reason}, 0, 0)
		} else {
			r.stats.Skipped.Add(1)
		}
		return false
	}
	if seen && !r.retries(prev) {
		r.stats.Skipped.Add(1) // finished by an earlier run
		r.stats.countEarlier(prev.Outcome)
		return false
	}
	if now, ok := r.cfg.Moved[it.Email]; ok {
		if _, pending := r.pending(it); !pending {
			r.stats.Moved.Add(1)
			r.record(it, outcome{kind: journal.OutcomeSkipped, reason: planner.ReasonChangedSincePlan,
				message: "the invitation moved since the plan: " + now}, 0, 0)
			return false
		}
	}
	if r.cfg.Limit > 0 {
		if r.taken >= r.cfg.Limit {
			r.stats.Deferred.Add(1)
			return false
		}
		r.taken++
	}
	return true
}

// retries says whether an earlier run's final outcome is taken up again.
func (r *run) retries(prev journal.Record) bool {
	return retried(prev, r.cfg.RetryInDoubt, r.cfg.RetryRejected)
}

// retried says whether a final outcome is taken up again: failures that
// provably changed nothing always, in_doubt items (read back first) and
// rejected ones only when asked.
func retried(prev journal.Record, inDoubt, rejected bool) bool {
	switch prev.Outcome {
	case journal.OutcomeFailed:
		return prev.NotSent
	case journal.OutcomeInDoubt:
		return inDoubt
	case journal.OutcomeRejected:
		return rejected
	}
	return false
}

// final returns the outcome an earlier run recorded for the item.
func (r *run) final(it planner.Item) (journal.Record, bool) {
	if r.cfg.Resume == nil {
		return journal.Record{}, false
	}
	return r.cfg.Resume.Final(journal.ItemKey(it.Row, it.Email, string(it.Action)))
}

// pending returns the intent an earlier run recorded without an outcome.
func (r *run) pending(it planner.Item) (journal.Record, bool) {
	if r.cfg.Resume == nil {
		return journal.Record{}, false
	}
	intent, ok := r.cfg.Resume.Pending[journal.ItemKey(it.Row, it.Email, string(it.Action))]
	return intent.Record(), ok
}

func (r *run) abort(err error) {
	r.fatal.CompareAndSwap(nil, &err)
	r.stopHalt()
}
