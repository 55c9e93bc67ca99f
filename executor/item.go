package executor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/journal"
	"github.com/invitectl/invitectl/pkg/ledger"
	"github.com/invitectl/invitectl/pkg/pace"
	"github.com/invitectl/invitectl/pkg/words"
	"github.com/invitectl/invitectl/planner"
)

// outcome is how an item ended.
type outcome struct {
	kind      string // journal.Outcome*
	reason    string // replaces the plan's reason when apply decided otherwise
	httpCode  int
	message   string
	operation string
	detail    string
	notSent   bool // failed, provably without effect: a later run retries
}

// errStopped ends an item's attempts when the run is halting; the item's
// intent, if any, stays without an outcome for the next run to reconcile.
var errStopped = errors.New("run stopped before the call")

// errUnreserved ends an item's attempts when the ledger did not reserve its
// address: reserve then recorded the item as skipped, or the run is ending.
var errUnreserved = errors.New("address not reserved")

// task is one send or cancel item being worked on.
type task struct {
	it       planner.Item
	attempts int // mutating calls made, this run and earlier ones
	quota    int
	// ambiguous counts this run's calls whose outcome was unknown and that
	// a read-back then showed had not taken effect.
	ambiguous int
	// intentAt is when the latest call's intent was recorded: a request
	// can land until the settle delay after it.
	intentAt time.Time
	// reserved: the ledger holds this run's intent for the item.
	reserved bool
}

// process drives one item to an outcome: settle what an earlier run left
// unknown, then reserve the address in the ledger and call; after an
// ambiguous failure read the invitation back, and call again only when that
// shows, once no request can still land, that the call did not take
// effect. When the run is halting, an item whose fate is not known is left
// without an outcome: its intent makes the next run read it back first.
func (r *run) process(it planner.Item) {
	t := &task{it: it}
	if prev, ok := r.pending(it); ok {
		t.attempts, t.intentAt = prev.Attempt, prev.At
		r.settle(t, "an earlier run was stopped during this call")
		return
	}
	if prev, ok := r.final(it); ok {
		t.attempts, t.intentAt = prev.Attempts, prev.At
		if prev.Outcome == journal.OutcomeInDoubt {
			r.settle(t, "an earlier run left it in doubt")
			return
		}
	}
	r.attempt(t)
}

// attempt calls until the item has an outcome, or parks it after an
// ambiguous failure. The address is reserved (once) by the call itself,
// when the pacer lets it go: reserved while waiting, it would stop every
// other run as in_flight, and a killed run would leave a reservation for
// every item that was waiting, not only for the calls that left.
func (r *run) attempt(t *task) {
	for {
		res, err := r.call(t)
		switch {
		case errors.Is(err, errUnreserved):
			return // reserve settled the item (skipped), or the run is ending
		case err == nil:
			r.finish(t, outcome{kind: journal.OutcomeDone, operation: res.Operation, detail: resultDetail(res)})
			return
		case errors.Is(err, errStopped):
			return
		case errors.As(err, new(*pace.DailyQuotaError)):
			// Nothing more goes out today: this item is retried by resume,
			// the others simply stay pending.
			o := failure(journal.OutcomeFailed, err, "nothing was sent: the daily quota is spent; resume tries it again")
			o.notSent = true
			r.finish(t, o)
			r.abort(err)
			return
		case invitations.IsAuth(err):
			r.abort(err)
			return
		case invitations.IsDenied(err), invitations.IsNotFound(err), invitations.KindOf(err) == invitations.KindInvalid:
			r.refused(t, err)
			return
		case invitations.IsPrecondition(err):
			r.finish(t, failure(journal.OutcomeRejected, err, "the invitation's state changed since the plan"))
			return
		case r.stopped() && invitations.IsRetryable(err):
			// Halted while waiting to retry: the last call, like any the
			// attempt retried, certainly did nothing. Said now, the next run
			// calls again without first waiting to read it back.
			o := failure(journal.OutcomeFailed, err, "nothing was sent: interrupted while waiting to retry; resume tries it again")
			o.notSent = true
			r.finish(t, o)
			return
		case r.stopped():
			return
		case invitations.IsAmbiguous(err):
			r.stats.Retries.Add(1)
			r.settle(t, "the call failed after it may have taken effect: "+err.Error())
			return
		case invitations.IsRetryable(err):
			o := failure(journal.OutcomeFailed, err, "nothing was sent: the retry budget ran out; resume tries it again")
			o.notSent = true
			r.finish(t, o)
			return
		default:
			r.finish(t, failure(journal.OutcomeFailed, err, ""))
			return
		}
	}
}

// reserve records the intent in the customer's ledger, the atomic step that
// stops two journals or processes from both acting on one address. Another
// source's call since the plan makes the item skipped, naming that source.
func (r *run) reserve(t *task) bool {
	l := r.cfg.Ledger
	if l == nil || t.reserved {
		return true
	}
	if r.stopped() {
		return false
	}
	act, err := ledger.ParseAction(string(t.it.Action))
	if err != nil {
		r.abort(err)
		return false
	}
	err = l.Reserve(r.calls, ledger.Claim{Source: r.cfg.Source, Email: t.it.Email, Action: act, After: r.cfg.PlanCreated})
	var c *ledger.Conflict
	switch {
	case errors.As(err, &c):
		r.stats.Conflicts.Add(1)
		reason, next := planner.ReasonAlreadySent, ""
		if c.Effect == ledger.Pending {
			reason = planner.ReasonInFlight
			if c.Source.Journal != "" {
				next = "; when it has ended, 'invitectl resume " + c.Source.Journal + "' settles it"
			}
		}
		r.finish(t, outcome{kind: journal.OutcomeSkipped, reason: reason, message: c.Error() + next})
		return false
	case err != nil:
		r.abort(fmt.Errorf("record intent in the ledger: %w", err))
		return false
	}
	t.reserved = true
	return true
}

// release settles a reservation whose call never left.
func (r *run) release(t *task) {
	if t.reserved && r.cfg.Ledger != nil {
		t.reserved = false
		act, _ := ledger.ParseAction(string(t.it.Action))
		_ = r.cfg.Ledger.Record(context.WithoutCancel(r.calls), r.cfg.Source, t.it.Email, act, ledger.None)
	}
}

// refused ends an item the API refused for this address alone, or stops
// the run when a probe shows the credentials are at fault.
func (r *run) refused(t *task, err error) {
	if r.cfg.Judge == nil {
		if invitations.IsDenied(err) {
			r.abort(err)
			return
		}
	} else {
		err = r.cfg.Judge.Judge(r.halt, err)
	}
	switch {
	case invitations.IsAuth(err):
		r.abort(err)
	case r.cfg.Judge != nil && !invitations.IsRefusal(err):
		// The probe was cut short by an interrupt: the call's intent
		// makes the next run decide.
	default:
		r.finish(t, failure(journal.OutcomeRejected, err, "refused for this address only (other calls succeed); 'resume --retry-rejected' tries it again"))
	}
}

// call makes the mutating call, retrying what provably did not happen
// (quota, refused connections), with a durable intent before each attempt.
// Waiting for a slot, the pacer or a backoff ends as soon as the run halts;
// a call that has left runs on until the drain deadline.
func (r *run) call(t *task) (invitations.Result, error) {
	var res invitations.Result
	_, err := r.window.Do(r.halt, r.cfg.Retry, r.writeVerdict(t), func(context.Context) error {
		if r.stopped() {
			return errStopped
		}
		fresh := !t.reserved
		if !r.reserve(t) {
			return errUnreserved
		}
		t.attempts++
		t.intentAt = r.now()
		if err := r.cfg.Journal.Append(r.intent(t)); err != nil {
			t.attempts--
			if fresh {
				r.release(t) // reserved for this call, which never left
			}
			r.abort(fmt.Errorf("record intent: %w", err))
			return errStopped
		}
		r.stats.Calls.Add(1)
		var err error
		if t.it.Action == planner.ActionCancel {
			res, err = r.cfg.Client.Cancel(r.calls, t.it.Email)
		} else {
			res, err = r.cfg.Client.Send(r.calls, t.it.Email)
		}
		return err
	})
	return res, err
}

// writeVerdict retries only calls that certainly did nothing, and hands
// what a quota error says of its limit to the pacer.
func (r *run) writeVerdict(t *task) pace.Classifier {
	return func(err error) pace.Verdict {
		v := invitations.WriteVerdict(err)
		switch {
		case v.Quota:
			r.log.Debug("quota error; slowing down", "email", t.it.Email, "attempt", t.attempts, "limit", v.Limit, "rate", r.cfg.Write.Rate())
			t.quota++
			r.stats.QuotaErrors.Add(1)
			r.stats.Retries.Add(1)
		case v.Retry:
			r.log.Debug("call did not reach the API; retrying", "email", t.it.Email, "attempt", t.attempts, "error", err)
			r.stats.Retries.Add(1)
		}
		v.Retry = v.Retry && !r.stopped()
		return v
	}
}

func (r *run) intent(t *task) journal.Record {
	return journal.Record{Type: journal.TypeIntent, At: t.intentAt.UTC(), Row: t.it.Row, Email: t.it.Email,
		Action: string(t.it.Action), Reason: t.it.Reason, Attempt: t.attempts}
}

// finish records an item's outcome: in the ledger first when a call was
// made or reserved (so another process sees it settled), then in the
// journal.
func (r *run) finish(t *task, o outcome) {
	if o.kind != journal.OutcomeDone {
		r.log.Debug("outcome", "email", t.it.Email, "action", t.it.Action, "outcome", o.kind, "message", o.message, "detail", o.detail)
	}
	if r.cfg.Ledger != nil && (t.reserved || t.attempts > 0) {
		act, _ := ledger.ParseAction(string(t.it.Action))
		if err := r.cfg.Ledger.Record(context.WithoutCancel(r.calls), r.cfg.Source, t.it.Email, act, effectOf(o)); err != nil {
			r.abort(fmt.Errorf("record the outcome of %s in the ledger: %w", t.it.Email, err))
			return
		}
	}
	r.record(t.it, o, t.attempts, t.quota)
}

// effectOf is what the ledger learns from an outcome.
func effectOf(o outcome) ledger.Effect {
	switch {
	case o.kind == journal.OutcomeDone:
		return ledger.Took
	case o.kind == journal.OutcomeRejected, o.kind == journal.OutcomeSkipped, o.notSent:
		return ledger.None
	}
	return ledger.Unknown
}

// record appends an item's outcome and counts it. Outcomes of items that
// made calls wait for durability; the others need not.
func (r *run) record(it planner.Item, o outcome, attempts, quota int) {
	reason := it.Reason
	if o.reason != "" {
		reason = o.reason
	}
	rec := journal.Record{Type: journal.TypeOutcome, At: r.now().UTC(), Row: it.Row, Email: it.Email,
		Action: string(it.Action), Reason: reason, Outcome: o.kind, Attempts: attempts, QuotaErrors: quota,
		HTTPCode: o.httpCode, Message: o.message, Operation: o.operation, Detail: o.detail, NotSent: o.notSent}
	if attempts == 0 {
		r.cfg.Journal.AppendAsync(rec)
	} else if err := r.cfg.Journal.Append(rec); err != nil {
		r.abort(fmt.Errorf("record outcome of %s: %w", it.Email, err))
		return
	}
	switch o.kind {
	case journal.OutcomeDone:
		r.stats.Done.Add(1)
	case journal.OutcomeSkipped:
		r.stats.Skipped.Add(1)
	case journal.OutcomeRejected:
		r.stats.Rejected.Add(1)
	case journal.OutcomeFailed:
		r.stats.Failed.Add(1)
	case journal.OutcomeInDoubt:
		r.stats.InDoubt.Add(1)
	}
}

func failure(kind string, err error, detail string) outcome {
	o := outcome{kind: kind, message: err.Error(), detail: detail}
	var e *invitations.Error
	if errors.As(err, &e) {
		o.httpCode, o.message, o.operation = e.HTTPCode, e.Message, e.Operation
		if e.Status != "" {
			o.message = e.Status + ": " + e.Message
		}
	}
	return o
}

func resultDetail(res invitations.Result) string {
	if res.Invitation == nil {
		return ""
	}
	return fmt.Sprintf("state %s, %s sent", res.Invitation.State, words.Count(res.Invitation.MailsSentCount, "mail", "mails"))
}
