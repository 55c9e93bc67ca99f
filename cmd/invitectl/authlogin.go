package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/invitectl/invitectl/pkg/auth"
	"github.com/invitectl/invitectl/pkg/profile"
	"github.com/invitectl/invitectl/pkg/safetext"
	"github.com/invitectl/invitectl/pkg/scope"
)

type loginOptions struct {
	clientSecret string
	noBrowser    bool
	timeout      time.Duration
	scopes       []string
}

func newAuthLoginCmd(a *app) *cobra.Command {
	var o loginOptions
	cmd := &cobra.Command{
		Use:   "login --client-secret client_secret.json",
		Short: "Sign in as yourself, an administrator, with your own OAuth client; the login is kept per profile",
		Long: `Signs you in with an OAuth client of your own Google Cloud project (of type
Desktop app): invitectl opens your browser at Google's sign-in, listens on a
loopback port (127.0.0.1) for the answer, and exchanges it, with PKCE, for a
refresh token. The token is stored, readable by you only, in invitectl's
configuration folder, one per profile (--profile), and every later command of
that profile acts as you, unless --credentials or
--impersonate-service-account names other credentials.

Google refuses its shared OAuth clients (gcloud's among them) the
cloud-identity.userinvitations scope ("Error 400: invalid_scope";
GAM-team/GAM issues 1351 and 1358), hence a client of your own: see the README
for how to create it. If the browser shows an error instead of coming back,
the command gives up after --timeout with what to do.`,
		Example: `  invitectl auth login --client-secret ~/Downloads/client_secret_1234.apps.googleusercontent.com.json
  invitectl --profile globex auth login --client-secret globex-client.json --no-browser`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAuthLogin(cmd.Context(), a, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.clientSecret, "client-secret", "", "the OAuth client file of a Desktop app, as the Cloud console downloads it (required)")
	f.BoolVar(&o.noBrowser, "no-browser", false, "print the sign-in address instead of opening a browser (open it on this machine: the answer comes to a loopback port)")
	durationVar(f, &o.timeout, "timeout", 5*time.Minute, "how long to wait for the browser")
	f.StringSliceVar(&o.scopes, "scopes", []string{scope.Invitations, scope.SheetsReadOnly}, "OAuth scopes to ask for, comma-separated (the invitations scope also reads)")
	_ = cmd.MarkFlagRequired("client-secret")
	return cmd
}

func runAuthLogin(ctx context.Context, a *app, o loginOptions) error {
	if o.timeout <= 0 {
		return usagef("--timeout must be positive")
	}
	path := a.loginPath()
	if path == "" {
		_, err := profile.Dir(a.io.env)
		return usageError{err}
	}
	client, err := auth.ReadClientSecret(o.clientSecret)
	if err != nil {
		return authError{err}
	}
	open := a.io.browse
	if o.noBrowser {
		open = nil
	}
	// Even with --quiet: the sign-in address is a prompt, not a status.
	notify := func(s string) {
		for _, line := range strings.Split(s, "\n") {
			fmt.Fprintln(a.stderr, safetext.Terminal(line))
		}
	}
	login, err := auth.Login(ctx, auth.LoginConfig{
		Client: client, Scopes: o.scopes, AuthEndpoint: a.opts.authEndpoint,
		Open: open, Notify: notify, Timeout: o.timeout,
	})
	if err != nil {
		return authError{err}
	}
	if err := auth.SaveLogin(path, login); err != nil {
		return fmt.Errorf("store the login: %w", err)
	}
	fmt.Fprintf(a.io.errOut, "Signed in. The login of profile %s is stored in %s (readable by you only); every command of this profile now acts as you.\nCheck it with: %s\n",
		safetext.Terminal(a.profileName), safetext.Terminal(path), a.nextCommand("auth", "check"))
	return nil
}

func newAuthLogoutCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "logout",
		Short: "Remove the stored login of the profile",
		Long: `Removes the refresh token that 'invitectl auth login' stored for the profile in
use from this machine. To revoke the access at Google too, remove invitectl's
OAuth client at https://myaccount.google.com/permissions.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := a.loginPath()
			if path == "" {
				_, err := profile.Dir(a.io.env)
				return usageError{err}
			}
			err := os.Remove(path)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				fmt.Fprintf(a.io.errOut, "No stored login for profile %s.\n", safetext.Terminal(a.profileName))
				return nil
			case err != nil:
				return fmt.Errorf("remove the login: %w", err)
			}
			fmt.Fprintf(a.io.errOut, "Removed the login of profile %s from this machine (%s).\n", safetext.Terminal(a.profileName), safetext.Terminal(path))
			return nil
		},
	}
}
