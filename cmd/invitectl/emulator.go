package main

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/invitectl/invitectl/pkg/emulator"
	"github.com/invitectl/invitectl/pkg/words"
	"github.com/invitectl/invitectl/samples"
)

type emulatorOptions struct {
	world        string
	addr         string
	cfg          emulator.Config
	window       string
	trustKeys    []string
	delegated    []string
	impersonable []string
	clients      []string
}

func newEmulatorCmd(a *app) *cobra.Command {
	var o emulatorOptions
	cmd := &cobra.Command{
		Use:   "emulator",
		Short: "Serve an in-memory Cloud Identity user-invitation API for tests and rehearsals",
		Long: `Serves the User Invitation API (v1 and v1beta1) from a world file until
interrupted, and prints its base URL on stdout. Point invitectl at it with
--endpoint URL --customer ID (or INVITECTL_ENDPOINT / INVITECTL_CUSTOMER).

GET /_emulator/state shows every account (with the emails it received, by
sender) and the call counters; POST /_emulator/accounts changes accounts
as other administrators or the users would (a JSON array such as
[{"email": "a@example.com", "do": "accept"}]); POST /_emulator/reset
reloads the world file.

Quota is counted as Google counts it: per minute per user (rolling, or
wall-clock minutes with --quota-window fixed) and per day per project, and a
call over it gets Google's 429 RESOURCE_EXHAUSTED with the limit in its
google.rpc.ErrorInfo.`,
		Args: usageArgs(cobra.NoArgs),
		// Not apply's message: an emulator has no calls of its own in flight.
		Annotations: map[string]string{annotInterrupt: "invitectl: stopping the emulator"},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runEmulator(cmd.Context(), a, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.world, "world", "", "world file (JSON); default: the embedded samples/world.json")
	f.StringVar(&o.addr, "addr", "127.0.0.1:8085", "address to listen on")
	durationVar(f, &o.cfg.Latency, "latency", 0, "latency added to every API call")
	durationVar(f, &o.cfg.Jitter, "jitter", 0, "random extra latency, up to this much")
	f.IntVar(&o.cfg.Quota.RequestsPerMinute, "requests-per-minute", 0, "quota of every call together, per minute per user (0: unlimited)")
	f.IntVar(&o.cfg.Quota.ReadsPerMinute, "reads-per-minute", 0, "quota of isInvitableUser, get and list, per minute per user (0: unlimited)")
	f.IntVar(&o.cfg.Quota.WritesPerMinute, "writes-per-minute", 0, "quota of send and cancel, per minute per user (0: unlimited)")
	f.IntVar(&o.cfg.Quota.RequestsPerDay, "requests-per-day", 0, "quota of every call together, per day (ending at midnight Pacific time) per project (0: unlimited)")
	f.StringVar(&o.window, "quota-window", string(emulator.WindowRolling), "how per-minute quotas count: rolling (the last 60 s) or fixed (wall-clock minutes)")
	f.BoolVar(&o.cfg.Quota.Bare, "quota-bare", false, "answer quota errors with a 429 without details (no ErrorInfo naming the limit)")
	durationVar(f, &o.cfg.SendVisibilityLag, "send-visibility-lag", 0, "keep an invitation that a send creates for a recent account out of get and list for this long")
	f.Float64Var(&o.cfg.Fault429, "fault-429", 0, "probability of a 429 on each call")
	f.Float64Var(&o.cfg.Fault503, "fault-503", 0, "probability of a 503 before the change is applied")
	f.Float64Var(&o.cfg.Fault503After, "fault-503-after", 0, "probability of a 503 after the change was applied")
	f.Float64Var(&o.cfg.FaultReset, "fault-reset", 0, "probability of a connection reset without a response")
	f.Uint64Var(&o.cfg.Seed, "seed", 1, "seed of the fault and jitter dice")
	f.BoolVar(&o.cfg.Auth.Require, "require-auth", false, "demand access tokens from the emulator's own token endpoint (POST /token)")
	f.StringArrayVar(&o.trustKeys, "trust-key", nil, "service-account JSON key whose public half the token endpoint trusts (repeatable)")
	f.StringSliceVar(&o.delegated, "delegated-scopes", nil, "scopes authorised for domain-wide delegation (default: both invitation scopes, spreadsheets.readonly and drive.file)")
	f.StringArrayVar(&o.impersonable, "impersonable", nil, "service account that IAM Credentials signJwt signs for (repeatable)")
	durationVar(f, &o.cfg.Auth.TokenLifetime, "token-lifetime", time.Hour, "how long the API accepts an issued token")
	f.BoolVar(&o.cfg.Auth.Disabled, "api-disabled", false, "answer every call 403 SERVICE_DISABLED, as a project without the API enabled")
	f.StringArrayVar(&o.clients, "oauth-client", nil, "OAuth client of the Desktop kind for the authorization-code flow, ID:SECRET or ID:SECRET:SCOPE,... to limit its scopes (repeatable)")
	f.StringVar(&o.cfg.Auth.LoginUser, "login-user", "", "the Google account that signs in and consents at the authorization endpoint (empty: consent is declined)")
	return cmd
}

// parseClients reads the --oauth-client flags.
func (o *emulatorOptions) parseClients() error {
	for _, v := range o.clients {
		parts := strings.SplitN(v, ":", 3)
		if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
			return usagef("--oauth-client %q: want ID:SECRET or ID:SECRET:SCOPE,...", v)
		}
		c := emulator.OAuthClient{Secret: parts[1]}
		if len(parts) == 3 {
			c.Scopes = strings.Split(parts[2], ",")
		}
		if o.cfg.Auth.Clients == nil {
			o.cfg.Auth.Clients = map[string]emulator.OAuthClient{}
		}
		o.cfg.Auth.Clients[parts[0]] = c
	}
	return nil
}

// authConfig reads the trusted keys and delegation of the emulator flags.
func (o *emulatorOptions) authConfig() error {
	for _, path := range o.trustKeys {
		b, err := os.ReadFile(path)
		if err != nil {
			return usagef("--trust-key: %v", err)
		}
		email, key, err := emulator.ParsePublicKey(b)
		if err != nil {
			return usagef("--trust-key %s: %v", path, err)
		}
		if o.cfg.Auth.Keys == nil {
			o.cfg.Auth.Keys = map[string]*rsa.PublicKey{}
		}
		o.cfg.Auth.Keys[email] = key
	}
	if len(o.delegated) > 0 {
		o.cfg.Auth.Delegated = map[string][]string{}
		for email := range o.cfg.Auth.Keys {
			o.cfg.Auth.Delegated[strings.ToLower(email)] = o.delegated
		}
		for _, sa := range o.impersonable {
			o.cfg.Auth.Delegated[strings.ToLower(sa)] = o.delegated
		}
	}
	o.cfg.Auth.Impersonable = o.impersonable
	return nil
}

func loadWorld(path string) (emulator.World, error) {
	if path == "" {
		return emulator.ParseWorld(samples.World, "samples/world.json (embedded)")
	}
	return emulator.LoadWorld(path)
}

func runEmulator(ctx context.Context, a *app, o emulatorOptions) error {
	for _, p := range []float64{o.cfg.Fault429, o.cfg.Fault503, o.cfg.Fault503After, o.cfg.FaultReset} {
		if p < 0 || p > 1 {
			return usagef("fault probabilities are between 0 and 1, got %v", p)
		}
	}
	o.cfg.Quota.Window = emulator.QuotaWindow(o.window)
	if o.window != string(emulator.WindowRolling) && o.window != string(emulator.WindowFixed) {
		return usagef("--quota-window %q: want rolling or fixed", o.window)
	}
	if q := o.cfg.Quota; q.RequestsPerMinute < 0 || q.ReadsPerMinute < 0 || q.WritesPerMinute < 0 || q.RequestsPerDay < 0 {
		return usagef("quota flags must not be negative")
	}
	if o.cfg.SendVisibilityLag < 0 {
		return usagef("--send-visibility-lag must not be negative")
	}
	if err := o.authConfig(); err != nil {
		return err
	}
	if err := o.parseClients(); err != nil {
		return err
	}
	world, err := loadWorld(o.world)
	if err != nil {
		return usageError{err}
	}
	o.cfg.Reload = func() (emulator.World, error) { return loadWorld(o.world) }
	srv, err := emulator.New(world, o.cfg)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	url := "http://" + l.Addr().String()
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintln(a.io.out, url)
	fmt.Fprintf(a.io.errOut, "emulator serving customer %s with %s at %s (Ctrl-C to stop)\n  export INVITECTL_ENDPOINT=%s INVITECTL_CUSTOMER=%s\n",
		world.Customer, words.Count(int64(len(world.Users)), "account", "accounts"), url, url, world.Customer)
	if o.cfg.Auth.Require {
		fmt.Fprintf(a.io.errOut, "  tokens required; token endpoint %s/token:\n  export INVITECTL_AUTH_ENDPOINT=%s\n", url, url)
	}
	if len(o.cfg.Auth.Clients) > 0 {
		fmt.Fprintf(a.io.errOut, "  OAuth login: authorization endpoint %s/o/oauth2/auth, token endpoint %s/token\n", url, url)
	}
	if o.cfg.Quota.On() {
		fmt.Fprintf(a.io.errOut, "  quota %s\n", o.cfg.Quota)
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(l) }()
	select {
	case err := <-errc:
		return fmt.Errorf("emulator: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("emulator shutdown: %w", err)
	}
	return nil
}
