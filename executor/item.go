package executor

import (
	"context"
	"errors"
	"fmt"

	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/pace"
	"github.com/invitectl/invitectl/planner"
	"github.com/invitectl/invitectl/report"
)

// outcome is how an item ended.
type outcome struct {
	kind      string // report.Outcome*
	httpCode  int
	message   string
	operation string
	detail    string
	notSent   bool // failed, provably without effect: a later run retries
}

// errStopped ends an item's attempts when the run is halting; the item's
// intent, if any, stays without an outcome for the next run to reconcile.
var errStopped = errors.New("run stopped before the call")

// task is one send or cancel item being worked on.
type task struct {
	it       planner.Item
	attempts int // mutating calls made, this run and earlier ones
	quota    int
	// ambiguous counts this run's calls whose outcome was unknown and that
	// a read-back then showed had not taken effect.
	ambiguous int
}

// process drives one item to an outcome: reconcile what an earlier run left
// unknown, then call, and after an ambiguous failure read the invitation
// back; call again only when that shows the call did not take effect. When
// the run is halting, an item whose fate is not known is left without an
// outcome: its intent makes the next run read it back first.
func (r *run) process(it planner.Item) {
	t := &task{it: it}
	if prev, ok := r.pending(it); ok {
		t.attempts = prev.Attempt
		if !r.settle(t, "an earlier run was stopped during this call") {
			return
		}
	} else if prev, ok := r.final(it); ok {
		t.attempts = prev.Attempts
		if prev.Outcome == report.OutcomeInDoubt && !r.settle(t, "an earlier run left it in doubt") {
			return
		}
	}
	for {
		res, err := r.call(t)
		switch {
		case err == nil:
			r.finish(t, outcome{kind: report.OutcomeDone, operation: res.Operation, detail: resultDetail(res)})
			return
		case errors.Is(err, errStopped):
			return
		case (invitations.IsAuth(err) || invitations.IsDenied(err)):
			r.abort(err)
			return
		case invitations.IsPrecondition(err), invitations.IsNotFound(err):
			r.finish(t, failure(report.OutcomeRejected, err, "the invitation's state changed since the plan"))
			return
		case r.stopped():
			return
		case invitations.IsAmbiguous(err):
			if !r.settle(t, "the call failed after it may have taken effect: "+err.Error()) {
				return
			}
			r.stats.Retries.Add(1)
		case invitations.IsRetryable(err):
			o := failure(report.OutcomeFailed, err, "nothing was sent: the retry budget ran out; resume tries it again")
			o.notSent = true
			r.finish(t, o)
			return
		default:
			r.finish(t, failure(report.OutcomeFailed, err, ""))
			return
		}
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
		t.attempts++
		if err := r.cfg.Journal.Append(r.intent(t)); err != nil {
			return fmt.Errorf("record intent: %w", err)
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

// writeVerdict retries only calls that certainly did nothing.
func (r *run) writeVerdict(t *task) pace.Classifier {
	return func(err error) pace.Verdict {
		switch invitations.KindOf(err) {
		case invitations.KindQuota:
			r.log.Debug("quota error; slowing down", "email", t.it.Email, "attempt", t.attempts, "retryAfter", invitations.RetryAfter(err), "rate", r.cfg.Write.Rate())
			t.quota++
			r.stats.QuotaErrors.Add(1)
			r.stats.Retries.Add(1)
			return pace.Verdict{Retry: !r.stopped(), Quota: true, After: invitations.RetryAfter(err)}
		case invitations.KindUnavailable:
			r.log.Debug("call did not reach the API; retrying", "email", t.it.Email, "attempt", t.attempts, "error", err)
			r.stats.Retries.Add(1)
			return pace.Verdict{Retry: !r.stopped(), After: invitations.RetryAfter(err)}
		}
		return pace.Verdict{}
	}
}

func (r *run) intent(t *task) report.Record {
	return report.Record{Type: report.TypeIntent, At: r.now().UTC(), Row: t.it.Row, Email: t.it.Email,
		Action: string(t.it.Action), Reason: t.it.Reason, Attempt: t.attempts}
}

func (r *run) finish(t *task, o outcome) {
	if o.kind != report.OutcomeDone {
		r.log.Debug("outcome", "email", t.it.Email, "action", t.it.Action, "outcome", o.kind, "message", o.message, "detail", o.detail)
	}
	r.record(t.it, o, t.attempts, t.quota)
}

// record appends an item's outcome and counts it. Outcomes of items that
// made calls wait for durability; the others need not.
func (r *run) record(it planner.Item, o outcome, attempts, quota int) {
	rec := report.Record{Type: report.TypeOutcome, At: r.now().UTC(), Row: it.Row, Email: it.Email,
		Action: string(it.Action), Reason: it.Reason, Outcome: o.kind, Attempts: attempts, QuotaErrors: quota,
		HTTPCode: o.httpCode, Message: o.message, Operation: o.operation, Detail: o.detail, NotSent: o.notSent}
	if attempts == 0 {
		r.cfg.Journal.AppendAsync(rec)
	} else if err := r.cfg.Journal.Append(rec); err != nil {
		r.abort(fmt.Errorf("record outcome of %s: %w", it.Email, err))
		return
	}
	switch o.kind {
	case report.OutcomeDone:
		r.stats.Done.Add(1)
	case report.OutcomeSkipped:
		r.stats.Skipped.Add(1)
	case report.OutcomeRejected:
		r.stats.Rejected.Add(1)
	case report.OutcomeFailed:
		r.stats.Failed.Add(1)
	case report.OutcomeInDoubt:
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
	return fmt.Sprintf("state %s, %d mail(s) sent", res.Invitation.State, res.Invitation.MailsSentCount)
}
