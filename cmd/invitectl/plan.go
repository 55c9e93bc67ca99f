package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/invitectl/invitectl/pkg/safetext"
	"github.com/invitectl/invitectl/planner"
)

type planOptions struct {
	planFlags
	output string
	format string
}

func newPlanCmd(a *app) *cobra.Command {
	var o planOptions
	cmd := &cobra.Command{
		Use:   "plan [-i] INPUT [-o PLAN]",
		Short: "Work out what a campaign would do and write it as a plan (a dry run)",
		Long: `Reads the campaign, lists the customer's invitations once, asks isInvitableUser
where the listing cannot decide, and writes the plan: one line per input row
with its action (send, cancel or none) and the reason. It never sends or
cancels anything. Review the plan, then run 'invitectl apply PLAN'.`,
		Example: `  invitectl plan campaign.csv -o plan.jsonl
  invitectl plan -i unmanaged-users.csv --resend-after 168h -o plan.jsonl
  invitectl plan -i leavers.csv --action cancel -o cancel-plan.jsonl
  invitectl plan -i 'https://docs.google.com/spreadsheets/d/ID/edit#gid=0' -o plan.jsonl
  invitectl list --state not_yet_sent --format csv | invitectl plan -i - -o plan.jsonl`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.positional(args); err != nil {
				return err
			}
			return runPlan(cmd.Context(), a, o)
		},
	}
	o.register(cmd.Flags())
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "plan file to write (default: a new invitectl-plan-TIMESTAMP.jsonl)")
	cmd.Flags().StringVar(&o.format, "format", "table", "what to print: table (counts, what the reasons mean, first rows), json or csv (every item)")
	return cmd
}

func runPlan(ctx context.Context, a *app, o planOptions) error {
	if err := checkFormat(o.format, "table", "json", "csv"); err != nil {
		return err
	}
	out := o.output
	if out == "" {
		out = defaultPlan
	}
	path, w, err := a.buildPlan(ctx, &o.planFlags, out)
	if err != nil {
		return err
	}
	defer w.Close()
	if err := planner.Render(a.io.out, path, o.format, a.width()); err != nil {
		return err
	}
	fmt.Fprintf(a.io.errOut, "\nPlan written to %s. Review it, then run: %s\n", safetext.Terminal(path), a.nextCommand("apply", path))
	return nil
}
