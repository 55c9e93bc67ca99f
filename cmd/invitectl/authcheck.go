package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/invitectl/invitectl/pkg/auth"
	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/spreadsheet"
)

func newAuthCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "auth",
		Short: "Check the credentials invitectl would use",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "check",
		Short: "Show the identity, subject, scopes and customer, and prove them with one cheap read",
		Long: `Shows which credentials, which acting administrator, which scopes and which
customer invitectl would use; gets a token for the read-only scope and reads one
page of invitations, then gets a token for the full scope (which apply needs)
without changing anything, and says whether the Sheets scope (drive.file, for
report and status --to-sheet) is granted. Failures are explained with their
fix; they exit 4 (a missing Sheets scope is only reported).`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAuthCheck(cmd.Context(), a)
		},
	})
	return cmd
}

var errEnough = errors.New("one page is enough")

func runAuthCheck(ctx context.Context, a *app) error {
	out := a.io.out
	if err := invitations.ValidateCustomer(a.opts.customer); err != nil {
		return usageError{err}
	}
	_, id, err := auth.TokenSource(ctx, a.authOptions(scopes(true)))
	fmt.Fprintf(out, "credentials  %s\n", describeIdentity(id, a.opts.sandbox))
	if id.Subject != "" {
		fmt.Fprintf(out, "acting as    %s\n", id.Subject)
	}
	fmt.Fprintf(out, "scopes       %s (plan, list, get, check)\n             %s (apply, send, cancel)\n", auth.ScopeInvitationsReadOnly, auth.ScopeInvitations)
	fmt.Fprintf(out, "customer     %s\n", a.opts.customer)
	endpoint := a.opts.endpoint
	if endpoint == "" {
		endpoint = "https://cloudidentity.googleapis.com/ (" + a.opts.apiVersion + ")"
	}
	fmt.Fprintf(out, "endpoint     %s\n", endpoint)
	if err != nil {
		return authError{err}
	}

	c, err := a.client(ctx, true)
	if err != nil {
		return err
	}
	n := 0
	err = c.List(ctx, invitations.ListOptions{PageSize: 1}, func(p []invitations.Invitation) error {
		n = len(p)
		return errEnough
	})
	if err != nil && !errors.Is(err, errEnough) {
		fmt.Fprintln(out, "read         FAILED")
		return err
	}
	fmt.Fprintf(out, "read         ok (listed %d invitation(s) of customer %s)\n", n, a.opts.customer)

	full, err := a.tokenSource(ctx, false)
	if err != nil {
		return err
	}
	if full != nil {
		if _, err := full.Token(); err != nil {
			fmt.Fprintln(out, "full scope   FAILED")
			return authError{fmt.Errorf("token for %s: %w", auth.ScopeInvitations, err)}
		}
		fmt.Fprintln(out, "full scope   ok (a token for sending and cancelling was granted; nothing was changed)")
	}
	a.checkSheetsScope(ctx)
	fmt.Fprintln(out, "auth check passed")
	return nil
}

// checkSheetsScope says whether report and status --to-sheet can write: a
// token for the Sheets scope. It is optional, so its absence is said, not
// failed on.
func (a *app) checkSheetsScope(ctx context.Context) {
	out := a.io.out
	ts, err := a.tokenSource(ctx, true, spreadsheet.Scope)
	if err == nil && ts != nil {
		_, err = ts.Token()
	}
	switch {
	case err != nil:
		fmt.Fprintf(out, "sheets       not granted: %s\n             (--to-sheet needs %s; add it to the domain-wide delegation or the login)\n",
			errorText(err), spreadsheet.Scope)
	case ts == nil:
		fmt.Fprintln(out, "sheets       no authentication is sent: --to-sheet writes to the endpoint as it is")
	default:
		fmt.Fprintf(out, "sheets       ok (%s granted: report and status --to-sheet can write a new spreadsheet)\n", spreadsheet.Scope)
	}
}

func describeIdentity(id auth.Identity, sandbox bool) string {
	switch {
	case sandbox:
		return "none (--sandbox: in-process emulator)"
	case id.Mode == "none":
		return "none (--endpoint without credentials: no authentication is sent)"
	case id.Mode == "key":
		return fmt.Sprintf("service-account key %s (%s), domain-wide delegation", id.Source, orUnknown(id.Principal))
	case id.Mode == "impersonation":
		return fmt.Sprintf("impersonating %s through IAM Credentials, as the caller of Application Default Credentials %s", id.Principal, orUnknown(id.Source))
	}
	return strings.TrimSpace(fmt.Sprintf("Application Default Credentials %s (%s)", orUnknown(id.Source), orUnknown(id.Principal)))
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
