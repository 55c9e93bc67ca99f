package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/invitectl/invitectl/pkg/auth"
	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/safetext"
	"github.com/invitectl/invitectl/pkg/scope"
	"github.com/invitectl/invitectl/pkg/words"
)

func newAuthCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "auth",
		Short: "Sign in with your own OAuth client, sign out, and check the credentials invitectl would use",
	}
	login, logout := newAuthLoginCmd(a), newAuthLogoutCmd(a)
	for _, c := range []*cobra.Command{login, logout} {
		// They make and remove a profile's login: the profile need not exist.
		c.Annotations = map[string]string{annotSetup: "lenient", annotInterrupt: "invitectl: sign-in abandoned"}
	}
	cmd.AddCommand(login, logout, &cobra.Command{
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
	if err := a.startSandbox(); err != nil {
		return err
	}
	_, id, err := auth.TokenSource(ctx, a.authOptions(scopes(true)))
	a.identity = id
	if a.configDir != "" {
		fmt.Fprintf(out, "profile      %s\n", safetext.Terminal(a.profileName))
	}
	fmt.Fprintf(out, "credentials  %s\n", safetext.Terminal(describeIdentity(id, a.opts.sandbox, a.profileName)))
	if id.Subject != "" {
		fmt.Fprintf(out, "acting as    %s\n", id.Subject)
	}
	fmt.Fprintf(out, "scopes       %s (plan, list, get, check)\n             %s (apply, send, cancel)\n", scope.InvitationsReadOnly, scope.Invitations)
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
	fmt.Fprintf(out, "read         ok (listed %s of customer %s)\n", words.Count(int64(n), "invitation", "invitations"), a.opts.customer)

	full, err := a.tokenSource(ctx, false)
	if err != nil {
		return err
	}
	if full != nil {
		if _, err := full.Token(); err != nil {
			fmt.Fprintln(out, "full scope   FAILED")
			return authError{fmt.Errorf("token for %s: %w", scope.Invitations, err)}
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
	ts, err := a.tokenSource(ctx, true, scope.DriveFile)
	if err == nil && ts != nil {
		_, err = ts.Token()
	}
	switch {
	case err != nil:
		fmt.Fprintf(out, "sheets       not granted: %s\n             (--to-sheet needs %s; add it to the domain-wide delegation or the login)\n",
			errorText(err), scope.DriveFile)
	case ts == nil:
		fmt.Fprintln(out, "sheets       no authentication is sent: --to-sheet writes to the endpoint as it is")
	default:
		fmt.Fprintf(out, "sheets       ok (%s granted: report and status --to-sheet can write a new spreadsheet)\n", scope.DriveFile)
	}
}

// describeIdentity says which credentials invitectl uses, leaving out what
// it does not know rather than saying "unknown".
func describeIdentity(id auth.Identity, sandbox bool, profileName string) string {
	switch {
	case sandbox:
		return "none (--sandbox: in-process emulator)"
	case id.Mode == "none":
		return "none (--endpoint without credentials: no authentication is sent)"
	case id.Mode == "key":
		return "service-account key " + id.Source + inParens(id.Principal, clientID(id.ClientID)) + ", domain-wide delegation"
	case id.Mode == "impersonation":
		return "impersonating " + id.Principal + " through IAM Credentials, as the caller of Application Default Credentials" + inParens(id.Source)
	case id.Mode == "login":
		return "your own login (invitectl auth login, profile " + profileName + ", OAuth client " + id.ClientID + "), stored in " + id.Source
	case id.Source == "" && id.Principal == "":
		return "Application Default Credentials: none found"
	}
	return "Application Default Credentials" + inParens(id.Source) + inParens(id.Principal)
}

func clientID(id string) string {
	if id == "" {
		return ""
	}
	return "client ID " + id
}

// inParens is " (a, b)" of the parts that are known, or "".
func inParens(parts ...string) string {
	var known []string
	for _, p := range parts {
		if p != "" {
			known = append(known, p)
		}
	}
	if len(known) == 0 {
		return ""
	}
	return " (" + strings.Join(known, ", ") + ")"
}
