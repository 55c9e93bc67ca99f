package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/source"
)

func newSendCmd(a *app) *cobra.Command {
	cmd := newEachCmd(a, eachCmd{use: "send", short: "Send (or re-send) the invitation email to each address", readOnly: false, wants: source.ActionInvite, fn: sendOne})
	cmd.Long = `Sends the invitation email to each address, once per call: running it twice
emails the person twice. For lists, use plan and apply, which never do.`
	return cmd
}

func sendOne(ctx context.Context, c invitations.Client, email string) outcome {
	res, err := c.Send(ctx, email)
	if err != nil {
		o := failure(email, err)
		if invitations.IsAmbiguous(err) {
			o.Outcome = "in_doubt"
			o.Detail += " (the email may have been sent: check with 'invitectl get' before sending again)"
		}
		return o
	}
	return outcome{Email: email, Outcome: "sent", Detail: mutationDetail(res)}
}

func mutationDetail(res invitations.Result) string {
	if res.Invitation == nil {
		return res.Operation
	}
	return fmt.Sprintf("state=%s mails=%d operation=%s", res.Invitation.State, res.Invitation.MailsSentCount, res.Operation)
}
