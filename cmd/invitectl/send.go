package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/ledger"
	"github.com/invitectl/invitectl/pkg/safetext"
	"github.com/invitectl/invitectl/pkg/source"
)

func newSendCmd(a *app) *cobra.Command {
	cmd := newEachCmd(a, eachCmd{use: "send", short: "Send (or re-send) the invitation email to each address", readOnly: false,
		wants: source.ActionInvite, mutates: ledger.Send, fn: sendOne})
	cmd.Long = `Sends the invitation email to each address, once per call. An address that
invitectl emailed within the last 72 hours (from any plan or command on this
machine, as the customer's ledger records) or is emailing now is skipped,
because the API may not show that invitation yet: --force sends anyway. For
lists, use plan and apply.`
	return cmd
}

func sendOne(ctx context.Context, c invitations.Client, email string) outcome {
	res, err := c.Send(ctx, email)
	if err != nil {
		o := failure(email, err)
		if invitations.IsAmbiguous(err) {
			o.Outcome = "in_doubt" // perAddress says how to check
		}
		return o
	}
	return mutated(email, "sent", res)
}

// mutated is the outcome of a send or cancel that succeeded.
func mutated(email, what string, res invitations.Result) outcome {
	o := outcome{Email: email, Outcome: what, Operation: safetext.Terminal(res.Operation)}
	if res.Invitation != nil {
		o = o.withInvitation(*res.Invitation)
	}
	return o
}
