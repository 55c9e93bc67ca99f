package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/invitectl/invitectl/pkg/safetext"
	"github.com/invitectl/invitectl/planner"
)

type runOptions struct {
	planFlags
	apply  applyFlags
	output string
	format string
	dryRun bool
}

func newRunCmd(a *app) *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run [-i] INPUT [--dry-run]",
		Short: "A whole campaign: plan, show, confirm, apply",
		Long: `Plans the campaign as 'invitectl plan' does, prints the plan, asks for
confirmation (or takes --yes) and applies it as 'invitectl apply' does. The plan
is kept (-o, default invitectl-plan-TIMESTAMP.jsonl) so that an interrupted run
can be resumed. With --dry-run nothing is sent or cancelled and no plan file is
kept unless -o names one.`,
		Example: `  invitectl run campaign.csv --dry-run
  invitectl run -i campaign.csv -o plan.jsonl
  invitectl run --sandbox -i samples/campaign.csv --yes`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.positional(args); err != nil {
				return err
			}
			return runRun(cmd.Context(), a, o)
		},
	}
	o.register(cmd.Flags())
	o.apply.register(cmd.Flags(), false)
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "plan file to keep (default for a real run: invitectl-plan-TIMESTAMP.jsonl)")
	cmd.Flags().StringVar(&o.format, "format", "table", "how to print the plan: table, json or csv")
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "plan and show, change nothing")
	return cmd
}

func runRun(ctx context.Context, a *app, o runOptions) error {
	if err := checkFormat(o.format, "table", "json", "csv"); err != nil {
		return err
	}
	o.apply.readQPS = o.readQPS
	if err := o.apply.check(); err != nil {
		return err
	}
	if o.input == stdinArg && !o.dryRun && !o.apply.yes {
		// The prompt would read the answer from where the campaign came.
		return usagef("the campaign is read from standard input, which leaves nothing to ask for confirmation on: pass --yes (after a --dry-run)")
	}
	out := o.output
	if !o.dryRun && out == "" {
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
	if o.dryRun {
		if o.output != "" {
			fmt.Fprintf(a.io.errOut, "\nDry run: nothing was changed. Plan kept in %s.\n", safetext.Terminal(path))
		} else {
			fmt.Fprintln(a.io.errOut, "\nDry run: nothing was changed.")
		}
		return nil
	}
	fmt.Fprintf(a.io.errOut, "\nPlan kept in %s.\n", safetext.Terminal(path))
	return a.apply(ctx, path, o.apply, true)
}
