package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/ledger"
	"github.com/invitectl/invitectl/pkg/pace"
	"github.com/invitectl/invitectl/pkg/safetext"
	"github.com/invitectl/invitectl/pkg/words"
	"github.com/invitectl/invitectl/status"
)

type statusOptions struct {
	format, output, toSheet string
	all                     bool
	readQPS                 float64
}

func newStatusCmd(a *app) *cobra.Command {
	var o statusOptions
	cmd := &cobra.Command{
		Use:   "status RESULTS... | status --all",
		Short: "Who accepted: the current state of every address a campaign acted on",
		Long: `Reads again the current state of every address that the campaign's results
journals acted on (several journals: the waves of one campaign), or with --all
every address the customer's ledger knows, and shows the funnel: sent, then
ACCEPTED, DECLINED, still INVITED, NOT_YET_SENT (cancelled, or not sent yet) and
gone (managed now, renamed or deleted), with counts and percentages, and a row
per address with the campaign's outcome, the state now, mailsSentCount,
updateTime and the input's other columns.

It reads with the cheapest calls: one listing of the sent invitations (a call
per 200, counted from the plan) and a get for each address the listing does not
show, or a get per address. It changes nothing.`,
		Example: `  invitectl status wave1.results.jsonl
  invitectl status wave1.results.jsonl wave2.results.jsonl --format csv -o status.csv
  invitectl status wave1.results.jsonl --to-sheet="Onboarding: who accepted"
  invitectl status --all --format json`,
		Args: usageArgs(func(cmd *cobra.Command, args []string) error {
			switch {
			case o.all && len(args) > 0:
				return fmt.Errorf("give results journals or --all, not both")
			case !o.all && len(args) == 0:
				return fmt.Errorf("give one or more results journals, or --all")
			}
			return nil
		}),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("to-sheet") && (cmd.Flags().Changed("format") || o.output != "") {
				return usagef("--to-sheet writes a spreadsheet: give it without --format or -o")
			}
			return runStatus(cmd.Context(), a, args, o, cmd.Flags().Changed("to-sheet"))
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.format, "format", "table", "table, json or csv")
	f.StringVarP(&o.output, "output", "o", "", "write to this file (0600) instead of stdout")
	f.BoolVar(&o.all, "all", false, "every address the customer's ledger knows (every send and cancel invitectl made on this machine)")
	f.Float64Var(&o.readQPS, "read-qps", defaultReadQPS, "API reads per second")
	registerToSheet(cmd, &o.toSheet)
	return cmd
}

func runStatus(ctx context.Context, a *app, journals []string, o statusOptions, toSheet bool) error {
	if err := checkFormat(o.format, "table", "json", "csv"); err != nil {
		return err
	}
	if o.readQPS < 0 {
		return usagef("--read-qps must not be negative")
	}
	if err := checkOutput(o.output, "status.csv", journals...); err != nil {
		return err
	}
	c, err := a.campaign(journals, o.all)
	if err != nil {
		return err
	}
	for _, w := range c.Warnings {
		fmt.Fprintln(a.io.errOut, "warning: "+safetext.Terminal(w))
	}
	client, err := a.client(ctx, true)
	if err != nil {
		return err
	}
	reads, err := c.Read(ctx, status.Config{Client: client, Limiter: pace.NewLimiter(o.readQPS), Retry: pace.Policy{}})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.io.errOut, "Read %s with %s and %s.\n", words.Count(int64(c.Len()), "address", "addresses"),
		words.Count(int64(reads.Lists), "list call", "list calls"), words.Count(int64(reads.Gets), "get call", "get calls"))
	if toSheet {
		return a.writeSheet(ctx, sheetTitle(o.toSheet, "status"), "Status", c.Rows)
	}
	write := func(w io.Writer) error {
		switch o.format {
		case "csv":
			return status.WriteCSV(w, c)
		case "json":
			return status.WriteJSON(w, c)
		}
		return status.WriteTable(w, c, a.width())
	}
	return a.output(o.output, write)
}

// campaign gathers the addresses: from the journals, whose customer (and
// API version) it adopts, or from the customer's whole ledger.
func (a *app) campaign(journals []string, all bool) (*status.Campaign, error) {
	if all {
		if err := invitations.ValidateCustomer(a.opts.customer); err != nil {
			return nil, usageError{err}
		}
		l, err := ledger.Open(a.stateDir, a.opts.customer, ledger.Options{})
		if err != nil {
			return nil, err
		}
		defer l.Close()
		return status.FromLedger(l)
	}
	c, err := status.FromJournals(journals)
	if err != nil {
		return nil, usageError{err}
	}
	switch {
	case a.opts.customer == "":
		a.opts.customer = c.Customer
	case a.opts.customer != c.Customer:
		return nil, usagef("the journals record customer %s, not %s", safetext.Terminal(c.Customer), a.opts.customer)
	}
	if c.APIVersion != "" {
		a.opts.apiVersion = c.APIVersion
	}
	return c, nil
}
