package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/invitectl/invitectl/pkg/profile"
	"github.com/invitectl/invitectl/pkg/safetext"
)

// selectProfile finds the configuration folder and the profile in use:
// --profile, INVITECTL_PROFILE, or "default". A named profile must be in
// the configuration file or have a stored login, unless lenient (the
// profile and auth commands, which create them).
func (a *app) selectProfile(lenient bool) error {
	name := a.opts.profile
	if name == "" {
		name = a.io.env("INVITECTL_PROFILE")
	}
	explicit := name != ""
	if !explicit {
		name = profile.Default
	}
	if err := profile.ValidName(name); err != nil {
		return usageError{err}
	}
	a.profileName = name
	dir, err := profile.Dir(a.io.env)
	if err != nil {
		if explicit {
			return usagef("--profile %s: %v", name, err)
		}
		return nil // no configuration folder: no profile, no stored login
	}
	a.configDir = dir
	cfg, err := profile.Load(dir)
	if err != nil {
		return usagef("configuration: %v", err)
	}
	p, ok := cfg.Profiles[name]
	if !ok && explicit && !lenient {
		if _, err := os.Stat(a.loginPath()); err != nil {
			return usagef("no profile %q in %s (profiles: %s); create it with 'invitectl profile set %s customer C…'",
				name, profile.FileName, orNone(cfg.Names()), name)
		}
	}
	a.profile = p
	return nil
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// loginPath is the stored login of the profile in use; "" when there is no
// configuration folder.
func (a *app) loginPath() string {
	if a.configDir == "" {
		return ""
	}
	return profile.LoginPath(a.configDir, a.profileName)
}

// applySettings settles the global settings of cmd: a flag given on the
// command line wins, then its environment variable, then the profile. The
// profile's credentials count only when neither --credentials nor
// --impersonate-service-account (nor their variables) names others, and
// --sandbox ignores the profile: its world is its own.
func (a *app) applySettings(cmd *cobra.Command) {
	p := a.profile
	if a.opts.sandbox {
		p = profile.Profile{}
	}
	f := cmd.Flags()
	given := func(flag, env string) bool { return f.Changed(flag) || a.io.env(env) != "" }
	if given("credentials", "INVITECTL_CREDENTIALS") || given("impersonate-service-account", "INVITECTL_IMPERSONATE_SERVICE_ACCOUNT") {
		p.Credentials, p.ImpersonateServiceAccount = "", ""
	}
	path := func(s string) string { return profile.Path(s, a.configDir, a.io.env) }
	for _, v := range []struct {
		flag, env string
		dst       *string
		profile   string
	}{
		{"endpoint", "INVITECTL_ENDPOINT", &a.opts.endpoint, p.Endpoint},
		{"customer", "INVITECTL_CUSTOMER", &a.opts.customer, p.Customer},
		{"credentials", "INVITECTL_CREDENTIALS", &a.opts.credentials, path(p.Credentials)},
		{"subject", "INVITECTL_SUBJECT", &a.opts.subject, p.Subject},
		{"impersonate-service-account", "INVITECTL_IMPERSONATE_SERVICE_ACCOUNT", &a.opts.impersonate, p.ImpersonateServiceAccount},
		{"auth-endpoint", "INVITECTL_AUTH_ENDPOINT", &a.opts.authEndpoint, ""},
		{"state-dir", "INVITECTL_STATE_DIR", &a.opts.stateDir, path(p.StateDir)},
		{"api-version", "", &a.opts.apiVersion, p.APIVersion},
	} {
		switch {
		case f.Changed(v.flag):
		case v.env != "" && a.io.env(v.env) != "":
			if v.flag != "state-dir" { // ledger.Dir reads INVITECTL_STATE_DIR itself
				*v.dst = a.io.env(v.env)
			}
		case v.profile != "":
			*v.dst = v.profile
		}
	}
	// The profile's rates are the defaults of the commands that take them.
	for flag, rate := range map[string]*float64{"read-qps": p.ReadQPS, "write-qps": p.WriteQPS} {
		if fl := f.Lookup(flag); fl != nil && !fl.Changed && rate != nil {
			_ = fl.Value.Set(strconv.FormatFloat(*rate, 'g', -1, 64))
		}
	}
}

func newProfileCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "profile",
		Short: "List, show and set named profiles (customer, credentials, subject, endpoint, rates)",
		Long: `A profile keeps one tenant's settings under a name, in config.json in
invitectl's configuration folder (INVITECTL_CONFIG_DIR, else the user's
configuration folder: ~/.config/invitectl on Linux, ~/Library/Application
Support/invitectl on macOS, %AppData%\invitectl on Windows). Select one with
--profile NAME or INVITECTL_PROFILE; the profile named default is used
otherwise. Flags and environment variables override a profile's settings.`,
		Annotations: map[string]string{annotSetup: "lenient"},
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the profiles; * marks the one in use",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			for _, n := range cfg.Names() {
				mark := " "
				if n == a.profileName {
					mark = "*"
				}
				login := ""
				if _, err := os.Stat(profile.LoginPath(a.configDir, n)); err == nil {
					login = "  (signed in with auth login)"
				}
				fmt.Fprintf(a.io.out, "%s %s%s\n", mark, safetext.Terminal(n), login)
			}
			if len(cfg.Profiles) == 0 {
				fmt.Fprintf(a.io.errOut, "no profiles in %s\n", safetext.Terminal(a.configDir))
			}
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "show [NAME]",
		Short: "Show a profile's settings as JSON (default: the one in use)",
		Args:  usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			name := a.profileName
			if len(args) == 1 {
				name = args[0]
			}
			p, ok := cfg.Profiles[name]
			if !ok && name != profile.Default {
				return usagef("no profile %q (profiles: %s)", name, orNone(cfg.Names()))
			}
			_, err = os.Stat(profile.LoginPath(a.configDir, name))
			b, err2 := json.MarshalIndent(struct {
				Name     string `json:"name"`
				SignedIn bool   `json:"signedIn"`
				profile.Profile
			}{name, err == nil, p}, "", "  ")
			if err2 != nil {
				return err2
			}
			fmt.Fprintln(a.io.out, string(b))
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "set NAME KEY [VALUE]",
		Short: "Set (or, without VALUE, unset) one setting of a profile, creating it",
		Long: "Sets one setting of profile NAME, creating the profile and the configuration\n" +
			"file (0600) when needed. KEY is one of: " + strings.Join(profile.Keys, ", ") + ".\n" +
			"A relative path is relative to the configuration folder; ~/ is your home folder.",
		Example: `  invitectl profile set acme customer C03abc123
  invitectl profile set acme credentials ~/keys/acme-invitectl.json
  invitectl profile set acme subject admin@acme.example
  invitectl profile set acme write-qps 2
  invitectl --profile acme auth check`,
		Args: usageArgs(cobra.RangeArgs(2, 3)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := profile.ValidName(args[0]); err != nil {
				return usageError{err}
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			value := ""
			if len(args) == 3 {
				value = args[2]
			}
			p := cfg.Profiles[args[0]]
			if err := p.Set(args[1], value); err != nil {
				return usageError{err}
			}
			cfg.Profiles[args[0]] = p
			return cfg.Save(a.configDir)
		},
	})
	return cmd
}

// loadConfig reads the configuration file of the profile commands.
func (a *app) loadConfig() (profile.Config, error) {
	if a.configDir == "" {
		_, err := profile.Dir(a.io.env)
		return profile.Config{}, usageError{err}
	}
	cfg, err := profile.Load(a.configDir)
	if err != nil {
		return cfg, usagef("configuration: %v", err)
	}
	return cfg, nil
}

// profileNames are the profiles of the configuration file, for completion.
func profileNames(getenv func(string) string) ([]string, error) {
	dir, err := profile.Dir(getenv)
	if err != nil {
		return nil, err
	}
	cfg, err := profile.Load(dir)
	if err != nil {
		return nil, err
	}
	return cfg.Names(), nil
}
