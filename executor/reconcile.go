package executor

import (
	"context"
	"fmt"
	"time"

	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/journal"
	"github.com/invitectl/invitectl/pkg/pace"
	"github.com/invitectl/invitectl/pkg/words"
	"github.com/invitectl/invitectl/planner"
)

// verdict is what a read-back says about an earlier call.
type verdict int

func (v verdict) String() string {
	return [...]string{"not happened", "happened", "undecidable", "moved"}[v]
}

const (
	notHappened verdict = iota // safe to call (again)
	happened                   // the call took effect: done
	undecidable                // in doubt: never call again silently
	moved                      // the invitation left the state the call needs
)

// settle reads the invitation back after an unknown outcome and decides:
// done, rejected, in doubt, or failed when calls keep failing without
// effect, each recorded; or, when the call provably did not happen, call
// again. A read-back that shows no change proves that only once the
// original request can no longer land, so until the settle delay has
// passed since the call's intent the item is parked (the run goes on with
// the others), and read back then: one read, when it can decide. When the run halts, nothing is
// recorded and the intent stays for the next run, which honours the same
// delay from the same intent.
func (r *run) settle(t *task, why string) {
	if r.stopped() {
		return
	}
	if wait := t.intentAt.Add(r.settleDelay).Sub(r.now()); wait > 0 {
		r.park(t, wait, why) // one read-back, once it can decide
		return
	}
	var inv invitations.Invitation
	_, err := pace.Do(r.halt, r.cfg.Read, r.cfg.Retry, invitations.ReadVerdict, func(ctx context.Context) (err error) {
		inv, err = r.cfg.Client.Get(ctx, t.it.Email)
		return err
	})
	switch {
	case r.stopped():
		return
	case err == nil:
		r.stats.Reconciled.Add(1)
	case invitations.IsNotFound(err):
		r.stats.Reconciled.Add(1)
		r.finish(t, outcome{kind: journal.OutcomeInDoubt, message: why,
			detail: "get shows no invitation (an account created in the last 48 hours is not visible): check later with 'invitectl get', then resume --retry-in-doubt"})
		return
	case invitations.IsAuth(err):
		r.abort(err)
		return
	default:
		r.finish(t, outcome{kind: journal.OutcomeInDoubt, message: why, detail: "could not read the invitation back: " + err.Error()})
		return
	}
	v, detail := compare(t.it.Action, t.it.Observed, inv)
	r.log.Debug("read back after an unknown outcome", "email", t.it.Email, "why", why, "verdict", v.String(), "detail", detail)
	switch v {
	case happened:
		r.finish(t, outcome{kind: journal.OutcomeDone, message: why, detail: "reconciled: " + detail})
		return
	case moved:
		r.finish(t, outcome{kind: journal.OutcomeRejected, message: why, detail: detail})
		return
	case undecidable:
		r.finish(t, outcome{kind: journal.OutcomeInDoubt, message: why, detail: detail})
		return
	}
	if t.ambiguous++; t.ambiguous > r.cfg.Retry.Attempts() {
		r.finish(t, outcome{kind: journal.OutcomeFailed, message: why, notSent: true,
			detail: fmt.Sprintf("%d calls failed without taking effect (read back each time); resume tries it again", t.ambiguous)})
		return
	}
	r.attempt(t)
}

// park settles the item once wait has passed, unless the run
// halts first. It does not hold a worker meanwhile.
func (r *run) park(t *task, wait time.Duration, why string) {
	r.log.Debug("parked until no request can land", "email", t.it.Email, "wait", wait)
	r.stats.Parked.Add(1)
	r.parked.Go(func() {
		defer r.stats.Parked.Add(-1)
		timer := time.NewTimer(wait)
		defer timer.Stop()
		select {
		case <-timer.C:
			r.settle(t, why)
		case <-r.halt.Done():
		}
	})
}

// compare decides from the invitation now against what the plan observed.
func compare(action planner.Action, obs *planner.Observed, now invitations.Invitation) (verdict, string) {
	state := describeNow(now)
	if action == planner.ActionCancel {
		switch {
		case now.State == invitations.StateNotYetSent:
			return happened, "cancelled: " + state
		case now.State == invitations.StateAccepted || now.State == invitations.StateDeclined:
			return moved, "cannot cancel: " + state
		case obs != nil && now.State == obs.State && now.UpdateTime.Equal(obs.UpdateTime):
			return notHappened, state
		}
		return undecidable, "changed since the plan without being cancelled: " + state
	}
	if obs == nil {
		// Not listed when planned: a visible invitation now was created by a send.
		switch now.State {
		case invitations.StateInvited:
			return happened, "the invitation now exists: " + state
		case invitations.StateNotYetSent:
			if now.MailsSentCount == 0 {
				return notHappened, state
			}
		}
		return undecidable, "not listed when planned, " + state
	}
	switch {
	case now.MailsSentCount > obs.MailsSentCount:
		return happened, fmt.Sprintf("mailsSentCount %d -> %d, %s", obs.MailsSentCount, now.MailsSentCount, state)
	case now.State == obs.State && now.MailsSentCount == obs.MailsSentCount && now.UpdateTime.Equal(obs.UpdateTime):
		return notHappened, state
	case now.State == invitations.StateAccepted:
		return moved, "accepted in the meantime: " + state
	}
	return undecidable, fmt.Sprintf("changed since the plan (was %s with %s) but no mail was counted: %s", obs.State, words.Count(obs.MailsSentCount, "mail", "mails"), state)
}
