package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/ledger"
	"github.com/invitectl/invitectl/pkg/source"
)

func newCancelCmd(a *app) *cobra.Command {
	cmd := newEachCmd(a, eachCmd{use: "cancel", short: "Cancel the sent invitation of each address", readOnly: false, wants: source.ActionCancel, mutates: ledger.Cancel, fn: cancelOne})
	cmd.Long = `Cancels each address's invitation. Only a sent invitation that was neither
accepted nor declined can be cancelled; it returns to NOT_YET_SENT.`
	return cmd
}

func cancelOne(ctx context.Context, c invitations.Client, email string) outcome {
	res, err := c.Cancel(ctx, email)
	if err != nil {
		return failure(email, err)
	}
	return mutated(email, "cancelled", res)
}
