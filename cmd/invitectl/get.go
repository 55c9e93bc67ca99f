package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/source"
)

func newGetCmd(a *app) *cobra.Command {
	cmd := newEachCmd(a, eachCmd{use: "get", short: "Show the invitation of each address", readOnly: true, wants: source.ActionDefault, fn: getOne})
	cmd.Long = `Shows each address's invitation: state, emails sent, last update. An account
created in the last 48 hours, a managed account and an address with no Google
account all answer not_found.`
	return cmd
}

func getOne(ctx context.Context, c invitations.Client, email string) outcome {
	inv, err := c.Get(ctx, email)
	switch {
	case invitations.IsNotFound(err):
		return outcome{Email: email, Outcome: "not_found", Detail: "no invitation visible (managed, no account, or created in the last 48 hours)"}
	case err != nil:
		return failure(email, err)
	}
	return outcome{Email: email, Outcome: "found"}.withInvitation(inv)
}
