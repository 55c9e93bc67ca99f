package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/invitectl/invitectl/planner"
)

type runOptions struct {
	planFlags
	output string
	format string
	dryRun bool
}

func newRunCmd(a *app) *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run -i INPUT [--dry-run]",
		Short: "Plan a campaign and show it; with --dry-run, stop there",
		Long: `Plans the campaign as 'invitectl plan' does and prints it. With --dry-run nothing
is sent or cancelled and no plan file is kept unless -o names one.`,
		Example: `  invitectl run -i campaign.csv --dry-run`,
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRun(cmd.Context(), a, o)
		},
	}
	o.register(cmd.Flags())
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "also keep the plan in this file")
	cmd.Flags().StringVar(&o.format, "format", "table", "what to print: table or json")
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "plan and show, change nothing")
	return cmd
}

func runRun(ctx context.Context, a *app, o runOptions) error {
	if err := checkFormat(o.format, "table", "json"); err != nil {
		return err
	}
	if !o.dryRun {
		return errors.New("run without --dry-run needs the executor, which is not implemented yet: use 'invitectl run --dry-run' or 'invitectl plan'")
	}
	path, w, err := a.buildPlan(ctx, &o.planFlags, o.output)
	if err != nil {
		return err
	}
	defer w.Close()
	if err := planner.Render(a.io.out, path, o.format); err != nil {
		return err
	}
	if o.output != "" {
		fmt.Fprintf(a.io.errOut, "\nDry run: nothing was changed. Plan kept in %s.\n", path)
	} else {
		fmt.Fprintln(a.io.errOut, "\nDry run: nothing was changed.")
	}
	return nil
}
