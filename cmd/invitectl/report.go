package main

import (
	"io"

	"github.com/invitectl/invitectl/pkg/atomicfile"

	"github.com/spf13/cobra"

	"github.com/invitectl/invitectl/report"
)

func newReportCmd(a *app) *cobra.Command {
	var format, output string
	cmd := &cobra.Command{
		Use:   "report RESULTS",
		Short: "Render a results journal: summary table, CSV or JSON",
		Long: `Renders a results journal written by apply: a summary (counts per outcome and
reason, elapsed time, achieved rate, retries, quota errors, items that need
attention), a CSV with one row per address, or JSON. It reads the journal
without locking it, so it works while apply is running.`,
		Example: `  invitectl report plan.results.jsonl
  invitectl report plan.results.jsonl --format csv -o results.csv`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format, "table", "csv", "json"); err != nil {
				return err
			}
			st, err := report.Read(args[0])
			if err != nil {
				return usageError{err}
			}
			write := func(w io.Writer) error {
				switch format {
				case "csv":
					return report.WriteCSV(w, st)
				case "json":
					return report.WriteJSON(w, st)
				}
				return report.WriteTable(w, report.Summarize(st))
			}
			if output != "" {
				return atomicfile.WriteFile(output, write)
			}
			return write(a.io.out)
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "table, csv or json")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file (0600) instead of stdout")
	return cmd
}
