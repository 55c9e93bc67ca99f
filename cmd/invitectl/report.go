package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/invitectl/invitectl/pkg/safetext"
	"github.com/invitectl/invitectl/report"
)

type reportOptions struct {
	format, output, toSheet string
}

func newReportCmd(a *app) *cobra.Command {
	var o reportOptions
	cmd := &cobra.Command{
		Use:   "report RESULTS",
		Short: "Render a results journal: summary table, CSV, JSON or a Google Sheet",
		Long: `Renders a results journal written by apply, with its plan: a summary (counts
per outcome and reason, elapsed time, achieved rate, retries, quota errors, the
next step for what is left, what the reasons mean, items that need attention),
a CSV or JSON with one row per plan item (pending ones included, with the
input's other columns such as name or team), or a new Google Sheet holding that
CSV. It reads the journal without locking it, so it works while apply is
running.`,
		Example: `  invitectl report plan.results.jsonl
  invitectl report plan.results.jsonl --format csv -o results.csv
  invitectl report plan.results.jsonl --to-sheet="Wave 1 results"`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("to-sheet") && (cmd.Flags().Changed("format") || o.output != "") {
				return usagef("--to-sheet writes a spreadsheet: give it without --format or -o")
			}
			return runReport(cmd.Context(), a, args[0], o, cmd.Flags().Changed("to-sheet"))
		},
	}
	cmd.Flags().StringVar(&o.format, "format", "table", "table, csv or json")
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "write to this file (0600) instead of stdout")
	registerToSheet(cmd, &o.toSheet)
	return cmd
}

func runReport(ctx context.Context, a *app, journal string, o reportOptions, toSheet bool) error {
	if err := checkFormat(o.format, "table", "csv", "json"); err != nil {
		return err
	}
	if err := checkOutput(o.output, "results.csv", journal); err != nil {
		return err
	}
	res, err := report.OpenResults(journal)
	if err != nil {
		return usageError{err}
	}
	if res.Warning != "" {
		fmt.Fprintln(a.io.errOut, "warning: "+safetext.Terminal(res.Warning))
	}
	if toSheet {
		name := strings.TrimSuffix(filepath.Base(journal), ".jsonl")
		return a.writeSheet(ctx, sheetTitle(o.toSheet, name), "Results", res.Rows)
	}
	write := func(w io.Writer) error {
		switch o.format {
		case "csv":
			return report.WriteCSV(w, res)
		case "json":
			return report.WriteJSON(w, res)
		}
		sum := res.Summarize()
		sum.NextFlags = a.nextFlags()
		return report.WriteTable(w, sum, a.width())
	}
	return a.output(o.output, write)
}
