package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/safetext"
	"github.com/invitectl/invitectl/pkg/words"
)

type listOptions struct {
	states  []string
	orderBy string
	format  string
}

func newListCmd(a *app) *cobra.Command {
	var o listOptions
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the customer's user invitations, every page",
		Long: `Lists the invitations of every unmanaged account the API shows (accounts created
in the last 48 hours are not shown until they are invited).`,
		Example: `  invitectl list --state invited --order-by update_time:desc
  invitectl list --format csv > invitations.csv`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runList(cmd.Context(), a, o)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.states, "state", nil, "only these states (not_yet_sent, invited, accepted, declined), comma-separated")
	f.StringVar(&o.orderBy, "order-by", "email", "email or update_time, optionally :asc or :desc")
	f.StringVar(&o.format, "format", "table", "output: table, json or csv")
	return cmd
}

func runList(ctx context.Context, a *app, o listOptions) error {
	if err := checkFormat(o.format, "table", "json", "csv"); err != nil {
		return err
	}
	var opts invitations.ListOptions
	for _, s := range o.states {
		st, err := invitations.ParseState(s)
		if err != nil {
			return usagef("--state: %v", err)
		}
		opts.States = append(opts.States, st)
	}
	order, err := invitations.ParseOrder(o.orderBy)
	if err != nil {
		return usagef("--order-by: %v", err)
	}
	opts.Order = order
	c, err := a.client(ctx, true)
	if err != nil {
		return err
	}
	w := newInvitationWriter(a, o.format)
	if err := c.List(ctx, opts, w.page); err != nil {
		return err
	}
	return w.close()
}

// invitationWriter streams invitations in one of the output formats. The
// first failed write (a closed pipe) stops the listing: no more pages are
// asked for.
type invitationWriter struct {
	a       *app
	format  string
	csv     *safetext.Writer
	n       int
	started bool
	err     error
}

func newInvitationWriter(a *app, format string) *invitationWriter {
	return &invitationWriter{a: a, format: format}
}

// printf writes to stdout and keeps the first error.
func (w *invitationWriter) printf(format string, args ...any) {
	if w.err == nil {
		_, w.err = fmt.Fprintf(w.a.io.out, format, args...)
	}
}

// start writes what comes before the first invitation, once the listing
// has answered: a failed listing prints nothing on stdout.
func (w *invitationWriter) start() {
	if w.started {
		return
	}
	w.started = true
	switch w.format {
	case "csv":
		w.csv = safetext.NewWriter(w.a.io.out) // formula-safe, and read back by plan -i
		_ = w.csv.Write([]string{"email", "state", "mailsSentCount", "updateTime"})
	case "json":
		w.printf("[")
	case "table":
		w.printf("%-40s %-13s %5s  %s\n", "EMAIL", "STATE", "MAILS", "UPDATED")
	}
}

func (w *invitationWriter) page(invs []invitations.Invitation) error {
	w.start()
	for _, inv := range invs {
		switch w.format {
		case "csv":
			if err := w.csv.Write([]string{inv.Email, string(inv.State), strconv.FormatInt(inv.MailsSentCount, 10), formatTime(inv.UpdateTime)}); err != nil {
				return err
			}
		case "json":
			b, err := json.Marshal(inv)
			if err != nil {
				return err
			}
			sep := ",\n  "
			if w.n == 0 {
				sep = "\n  "
			}
			w.printf("%s", sep+string(b))
		default:
			w.printf("%-40s %-13s %5d  %s\n", safetext.Terminal(inv.Email), safetext.Terminal(string(inv.State)),
				inv.MailsSentCount, formatTime(inv.UpdateTime))
		}
		w.n++
	}
	if w.csv != nil {
		return w.csv.Flush()
	}
	return w.err
}

func (w *invitationWriter) close() error {
	w.start()
	switch w.format {
	case "csv":
		return w.csv.Flush()
	case "json":
		if w.n > 0 {
			w.printf("\n")
		}
		w.printf("]\n")
	case "table":
		if w.err == nil {
			fmt.Fprintln(w.a.io.errOut, words.Count(int64(w.n), "invitation", "invitations"))
		}
	}
	return w.err
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
