package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/oauth2"

	"github.com/invitectl/invitectl/pkg/address"
	"github.com/invitectl/invitectl/pkg/auth"
	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/ledger"
	"github.com/invitectl/invitectl/pkg/safetext"
	"github.com/invitectl/invitectl/pkg/source"
)

// outcome is one address's answer in get, check, send and cancel: a line
// of the table, an object of the JSON array, a row of the CSV. Text that
// came from the API or a file is escaped for a terminal and scrubbed of
// credentials when the outcome is made.
type outcome struct {
	Email string `json:"email"`
	// Outcome is what happened: found or not_found (get), invitable or
	// not_invitable (check), sent (send), cancelled (cancel), skipped (the
	// ledger held the send back), in_doubt (the call may have taken
	// effect) or error.
	Outcome string `json:"outcome"`
	// State, MailsSentCount and UpdateTime are the invitation as the call
	// returned it (get, send, cancel).
	State          string `json:"state,omitempty"`
	MailsSentCount *int64 `json:"mailsSentCount,omitempty"`
	UpdateTime     string `json:"updateTime,omitempty"` // RFC 3339, UTC
	// Invitable is isInvitableUser's answer (check).
	Invitable *bool `json:"invitable,omitempty"`
	// Operation is the long-running operation a send or cancel returned.
	Operation string     `json:"operation,omitempty"`
	Error     *callError `json:"error,omitempty"`
	// Detail is a note for people: why nothing was found, what to do next.
	Detail string `json:"detail,omitempty"`
	failed bool
	cause  error
	// errText is the whole error as the table shows it.
	errText string
}

// callError is a failed call as JSON and CSV show it.
type callError struct {
	Code    int    `json:"code,omitempty"`   // HTTP status; absent when no response came
	Status  string `json:"status,omitempty"` // canonical status, such as FAILED_PRECONDITION
	Message string `json:"message"`
}

// withInvitation fills the invitation's fields of o.
func (o outcome) withInvitation(inv invitations.Invitation) outcome {
	n := inv.MailsSentCount
	o.State, o.MailsSentCount, o.UpdateTime = safetext.Terminal(string(inv.State)), &n, formatTime(inv.UpdateTime)
	return o
}

// tableCells are the second and third columns of o's line in the table.
func (o outcome) tableCells() (status, detail string) {
	status = o.Outcome
	var parts []string
	switch {
	case o.Outcome == "found":
		status = o.State
		parts = append(parts, fmt.Sprintf("mails=%d", *o.MailsSentCount), "updated="+o.UpdateTime)
	case o.State != "":
		parts = append(parts, "state="+o.State, fmt.Sprintf("mails=%d", *o.MailsSentCount))
	}
	if o.Operation != "" {
		parts = append(parts, "operation="+o.Operation)
	}
	if o.errText != "" {
		parts = append(parts, o.errText)
	}
	if o.Detail != "" {
		parts = append(parts, o.Detail)
	}
	return status, strings.Join(parts, " ")
}

// csvHeader is the header of the single commands' CSV, one column per
// field of outcome.
var csvHeader = []string{"email", "outcome", "state", "mailsSentCount", "updateTime", "invitable", "operation", "errorCode", "errorStatus", "errorMessage", "detail"}

func (o outcome) csvRow() []string {
	row := []string{o.Email, o.Outcome, o.State, "", o.UpdateTime, "", o.Operation, "", "", "", o.Detail}
	if o.MailsSentCount != nil {
		row[3] = strconv.FormatInt(*o.MailsSentCount, 10)
	}
	if o.Invitable != nil {
		row[5] = strconv.FormatBool(*o.Invitable)
	}
	if e := o.Error; e != nil {
		if e.Code != 0 {
			row[7] = strconv.Itoa(e.Code)
		}
		row[8], row[9] = e.Status, e.Message
	}
	return row
}

// outcomeWriter prints outcomes in one of the formats as they come: the
// table and the CSV line by line, JSON as one array at the end.
type outcomeWriter struct {
	format string
	w      io.Writer
	colour palette
	csv    *safetext.Writer
	all    []outcome
}

func newOutcomeWriter(a *app, format string) *outcomeWriter {
	ow := &outcomeWriter{format: format, w: a.io.out, colour: palette{on: a.io.colour()}}
	if format == "csv" {
		ow.csv = safetext.NewWriter(a.io.out) // formula-safe, and read back by plan -i
		_ = ow.csv.Write(csvHeader)
	}
	return ow
}

func (ow *outcomeWriter) write(o outcome) error {
	switch ow.format {
	case "json":
		ow.all = append(ow.all, o)
	case "csv":
		if err := ow.csv.Write(o.csvRow()); err != nil {
			return err
		}
		return ow.csv.Flush()
	default:
		status, detail := o.tableCells()
		_, err := fmt.Fprintln(ow.w, strings.TrimRight(fmt.Sprintf("%-40s %s %s",
			safetext.Terminal(o.Email), ow.colour.cell(safetext.Terminal(status), 14), safetext.Terminal(detail)), " "))
		return err
	}
	return nil
}

func (ow *outcomeWriter) close() error {
	if ow.format != "json" {
		return nil
	}
	if ow.all == nil {
		ow.all = []outcome{}
	}
	b, err := json.MarshalIndent(ow.all, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(ow.w, string(b))
	return err
}

// eachOptions are the flags of get, check, send and cancel.
type eachOptions struct {
	format string
	in     inputFlags
	force  bool
}

// eachCmd describes one of the single commands.
type eachCmd struct {
	use, short string
	readOnly   bool
	// wants is what the command does, to compare with what the rows of a
	// -i file ask for: ActionDefault for the commands that only read.
	wants source.Action
	// mutates is the call the command makes, recorded in the ledger; zero
	// for the commands that only read.
	mutates ledger.Action
	fn      func(context.Context, invitations.Client, string) outcome
}

// perAddress runs fn for every address, from the arguments and then from
// the -i input, in order, printing one line per address. It stops at once
// on an authentication failure; other failures are printed and make the
// command exit 3. Every argument and every row is checked before any call.
func perAddress(ctx context.Context, a *app, args []string, o eachOptions, c eachCmd) error {
	if err := checkFormat(o.format, "table", "json", "csv"); err != nil {
		return err
	}
	emails, err := a.argAddresses(args)
	if err != nil {
		return err
	}
	if err := invitations.ValidateCustomer(a.opts.customer); err != nil {
		return usageError{err}
	}
	ts, err := a.tokenSource(ctx, c.readOnly, o.in.scopes()...)
	if err != nil {
		return err
	}
	if o.in.input != "" {
		more, err := a.inputAddresses(ctx, &o.in, ts, c.wants)
		if err != nil {
			return err
		}
		emails = append(emails, more...)
	}
	client, err := a.clientWith(ctx, ts)
	if err != nil {
		return err
	}
	var g *guard
	if c.mutates != 0 {
		if g, err = a.openGuard(c.use, o.force); err != nil {
			return err
		}
		defer g.Close()
	}
	w := newOutcomeWriter(a, o.format)
	failed := 0
	for _, e := range emails {
		r := a.callOne(ctx, client, e, c, g)
		if r.Outcome == "in_doubt" {
			r.Detail = "the email may have been sent: check with '" + a.nextCommand("get", e) + "' before sending again"
		}
		if r.failed {
			failed++
		}
		if err := w.write(r); err != nil {
			return err
		}
		if invitations.IsAuth(r.cause) || invitations.IsDenied(r.cause) {
			_ = w.close()
			return r.cause
		}
		if ctx.Err() != nil {
			_ = w.close()
			return ctx.Err()
		}
	}
	if err := w.close(); err != nil {
		return err
	}
	if failed > 0 {
		return partialError{failed}
	}
	return nil
}

// callOne makes one command's call for email, through the ledger when the
// command sends or cancels.
func (a *app) callOne(ctx context.Context, client invitations.Client, email string, c eachCmd, g *guard) outcome {
	if g == nil {
		return c.fn(ctx, client, email)
	}
	if skip := g.before(ctx, email, c.mutates); skip != nil {
		return *skip
	}
	r := c.fn(ctx, client, email)
	if err := g.after(ctx, email, c.mutates, r); err != nil {
		return failure(email, fmt.Errorf("%s: then recording it in the ledger failed: %w", r.Outcome, err))
	}
	return r
}

// argAddresses are the addresses of the arguments: addresses as people
// paste them, taken out as the input readers take one out of a cell (from a
// display name such as 'Ada Berg <ada@example.org>', angle brackets,
// mailto:, a trailing ; or , and invisible characters: source.Address), or
// invitations' resource names (customers/C…/userinvitations/ADDRESS, as
// GAM prints them), whose customer must be --customer's, and gives it when
// --customer is not set.
func (a *app) argAddresses(args []string) ([]string, error) {
	emails := make([]string, len(args))
	for i, arg := range args {
		e := address.Trim(arg)
		if customer, addr, ok := source.SplitName(e); ok {
			if a.opts.customer == "" {
				a.opts.customer = customer
			}
			if customer != a.opts.customer {
				return nil, usagef("argument %d names an invitation of customer %s, not of --customer %s",
					i+1, safetext.Terminal(customer), safetext.Terminal(a.opts.customer))
			}
			e = addr
		}
		n, err := source.Address(e)
		if err != nil {
			return nil, usagef("argument %d: invalid address: %v", i+1, err)
		}
		emails[i] = n
	}
	return emails, nil
}

// inputAddresses reads the addresses of a -i input. A row that is not a
// valid address, or that asks for another action than the command's, is a
// usage error before any call; a repeated address is called once, and a row
// that asks for nothing (No in both of the Admin console's columns) is
// skipped, each said on stderr.
func (a *app) inputAddresses(ctx context.Context, f *inputFlags, ts oauth2.TokenSource, wants source.Action) ([]string, error) {
	in, err := a.load(ctx, f, ts)
	if err != nil {
		return nil, err
	}
	var emails []string
	repeated, none := 0, 0
	_, err = in.Each(func(t source.Target) error {
		switch {
		case t.Reason == source.ReasonInvalidEmail, t.Reason == source.ReasonInvalidRow:
			return usagef("%s line %d: %s", safetext.Terminal(in.Info().Path), t.Row, t.Detail)
		case t.Reason == source.ReasonDuplicate:
			repeated++
		case t.Reason == source.ReasonNoAction:
			none++
		case wants != source.ActionDefault && t.Action != source.ActionDefault && t.Action != wants:
			return usagef("%s line %d: the row asks to %s %s; plan and apply the file, or use 'invitectl %s'",
				safetext.Terminal(in.Info().Path), t.Row, t.Action, t.Email, commandOf[t.Action])
		default:
			emails = append(emails, t.Email)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	path := safetext.Terminal(in.Info().Path)
	switch {
	case repeated == 1:
		fmt.Fprintf(a.io.errOut, "1 address is repeated in %s: it is called once\n", path)
	case repeated > 1:
		fmt.Fprintf(a.io.errOut, "%d addresses are repeated in %s: each is called once\n", repeated, path)
	}
	switch {
	case none == 1:
		fmt.Fprintf(a.io.errOut, "1 row of %s asks for nothing (No and No): skipped\n", path)
	case none > 1:
		fmt.Fprintf(a.io.errOut, "%d rows of %s ask for nothing (No and No): skipped\n", none, path)
	}
	return emails, nil
}

// commandOf is the command that does what a row asks for.
var commandOf = map[source.Action]string{source.ActionInvite: "send", source.ActionCancel: "cancel"}

// failure is the outcome of a failed call; its messages are scrubbed of
// credentials and escaped, as every message printed is.
func failure(email string, err error) outcome {
	text := safetext.Terminal(auth.Scrub(err.Error()))
	ce := &callError{Message: text}
	var e *invitations.Error
	if errors.As(err, &e) {
		ce.Code, ce.Status = e.HTTPCode, e.Status
		if e.Message != "" {
			ce.Message = safetext.Terminal(auth.Scrub(e.Message))
		}
	}
	return outcome{Email: email, Outcome: "error", Error: ce, errText: text, failed: true, cause: err}
}

func newEachCmd(a *app, c eachCmd) *cobra.Command {
	var o eachOptions
	cmd := &cobra.Command{
		Use:   c.use + " EMAIL... | -i FILE",
		Short: c.short,
		Example: fmt.Sprintf("  invitectl %[1]s ann@example.org bob@example.org\n"+
			"  invitectl %[1]s customers/C03abc123/userinvitations/ann@example.org\n"+
			"  invitectl %[1]s -i addresses.csv", c.use),
		Args: usageArgs(func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && o.in.input == "" {
				return fmt.Errorf("requires at least 1 arg (an address or customers/…/userinvitations/ADDRESS), or -i FILE")
			}
			return nil
		}),
		RunE: func(cmd *cobra.Command, args []string) error {
			return perAddress(cmd.Context(), a, args, o, c)
		},
	}
	cmd.Flags().StringVar(&o.format, "format", "table", "output: table, json or csv")
	if c.mutates == ledger.Send {
		cmd.Flags().BoolVar(&o.force, "force", false, "send even to addresses invitectl emailed within the last 72 hours or is emailing now")
	}
	o.in.register(cmd.Flags(), "read the addresses from a file (any input plan reads), - for standard input, or a Google Sheets URL")
	return cmd
}
