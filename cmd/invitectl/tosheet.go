package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/oauth2"

	"github.com/invitectl/invitectl/pkg/atomicfile"
	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/scope"
	"github.com/invitectl/invitectl/pkg/spreadsheet"
)

// sheetDefault is the value --to-sheet takes without =TITLE: a title made
// of the command and the time.
const sheetDefault = "\x00default"

// registerToSheet adds --to-sheet[=TITLE]. pflag cannot tell an optional
// value from the next argument, so a title is given with '='.
func registerToSheet(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVar(p, "to-sheet", "", "write the table to a new Google Sheet and print its URL (--to-sheet or --to-sheet=TITLE; needs the scope "+scope.DriveFile+")")
	cmd.Flags().Lookup("to-sheet").NoOptDefVal = sheetDefault
}

// sheetTitle is the spreadsheet's title: the one given, or what and when.
func sheetTitle(given, what string) string {
	if given == "" || given == sheetDefault {
		return "invitectl " + what + " " + time.Now().Format("2006-01-02 15:04")
	}
	return given
}

// authedClient is an HTTP client that sends ts's tokens (none when ts is
// nil: an emulator).
func authedClient(ts oauth2.TokenSource) *http.Client {
	var rt http.RoundTripper = invitations.NewTransport()
	if ts != nil {
		rt = &oauth2.Transport{Source: ts, Base: rt}
	}
	return &http.Client{Transport: rt}
}

// writeSheet writes rows to a new spreadsheet through the Sheets API (at
// --endpoint when set, as sheets:// input is read) and prints its URL on
// stdout.
func (a *app) writeSheet(ctx context.Context, title, tab string, rows spreadsheet.Rows) error {
	ts, err := a.tokenSource(ctx, true, scope.DriveFile)
	if err != nil {
		return err
	}
	url, err := spreadsheet.Write(ctx, spreadsheet.Config{Endpoint: a.opts.endpoint, HTTPClient: authedClient(ts)}, title, tab, rows)
	if err != nil {
		return err
	}
	fmt.Fprintln(a.io.out, url)
	return nil
}

// output runs write on the file named by -o (written whole, 0600), or on
// stdout.
func (a *app) output(path string, write func(io.Writer) error) error {
	if path != "" {
		return atomicfile.WriteFile(path, write)
	}
	return write(a.io.out)
}
