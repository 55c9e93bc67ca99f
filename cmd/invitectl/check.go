package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/source"
)

func newCheckCmd(a *app) *cobra.Command {
	cmd := newEachCmd(a, eachCmd{use: "check", short: "Ask whether each address can be invited now (isInvitableUser)", readOnly: true, wants: source.ActionDefault, fn: checkOne})
	cmd.Long = `Asks isInvitableUser for each address: a real-time answer, unlike get and list,
which do not show accounts created in the last 48 hours.`
	return cmd
}

func checkOne(ctx context.Context, c invitations.Client, email string) outcome {
	ok, err := c.IsInvitable(ctx, email)
	switch {
	case err != nil:
		return failure(email, err)
	case ok:
		return outcome{Email: email, Outcome: "invitable", Invitable: &ok}
	}
	return outcome{Email: email, Outcome: "not_invitable", Invitable: &ok, Detail: "managed, already accepted, or no Google account"}
}
