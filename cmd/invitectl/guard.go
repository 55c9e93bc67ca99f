package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/ledger"
	"github.com/invitectl/invitectl/planner"
)

// guard records the sends and cancels of the single commands in the
// customer's ledger, so that plans and other runs see them, and keeps
// 'invitectl send' from emailing someone invitectl emailed within the lag
// window (or is emailing now) unless --force says so. A cancel is only
// recorded: cancelling what a campaign just sent is a deliberate act.
type guard struct {
	l     *ledger.Ledger
	src   *ledger.Source
	force bool
}

// openGuard opens the customer's ledger for a single command.
func (a *app) openGuard(command string, force bool) (*guard, error) {
	l, err := ledger.Open(a.stateDir, a.opts.customer, ledger.Options{Since: time.Now().Add(-planner.DefaultLagWindow)})
	if err != nil {
		return nil, err
	}
	src := ledger.NewSource()
	src.Command = command
	return &guard{l: l, src: src, force: force}, nil
}

func (g *guard) Close() error { return g.l.Close() }

// before reserves email for act; a non-nil outcome means the call must not
// be made.
func (g *guard) before(ctx context.Context, email string, act ledger.Action) *outcome {
	claim := ledger.Claim{Source: g.src, Email: email, Action: act, After: time.Now().Add(-planner.DefaultLagWindow),
		Force: g.force || act == ledger.Cancel}
	err := g.l.Reserve(ctx, claim)
	var c *ledger.Conflict
	if errors.As(err, &c) && c.Action == ledger.Cancel {
		claim.Force = true // a send after a cancel is a new invitation
		err = g.l.Reserve(ctx, claim)
	}
	switch {
	case errors.As(err, &c):
		return &outcome{Email: email, Outcome: "skipped", failed: true,
			Detail: fmt.Sprintf("%v; the API may not show it yet: pass --force to send again", c)}
	case err != nil:
		o := failure(email, fmt.Errorf("record the intent in the ledger: %w", err))
		return &o
	}
	return nil
}

// after records how the call ended.
func (g *guard) after(ctx context.Context, email string, act ledger.Action, o outcome) error {
	effect := ledger.Took
	switch {
	case o.cause == nil:
	case invitations.IsAmbiguous(o.cause), invitations.KindOf(o.cause) == invitations.KindUnknown:
		effect = ledger.Unknown
	default:
		effect = ledger.None // refused, throttled, unreachable: nothing happened
	}
	return g.l.Record(context.WithoutCancel(ctx), g.src, email, act, effect)
}
