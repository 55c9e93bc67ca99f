package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/oauth2"

	"github.com/invitectl/invitectl/pkg/auth"
	"github.com/invitectl/invitectl/pkg/emulator"
	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/ledger"
	"github.com/invitectl/invitectl/pkg/profile"
	"github.com/invitectl/invitectl/pkg/safetext"
	"github.com/invitectl/invitectl/pkg/scope"
)

// globalOptions are the flags every command takes.
type globalOptions struct {
	endpoint   string
	customer   string
	apiVersion string
	verbose    int
	quiet      bool
	logFormat  string
	noProgress bool
	profile    string

	sandbox        bool
	sandboxWorld   string
	sandboxLatency time.Duration
	sandboxQuota   emulator.Quota

	credentials  string
	subject      string
	impersonate  string
	authEndpoint string
	stateDir     string
}

// app is the state shared by the commands of one invocation.
type app struct {
	io ioStreams
	// stderr is the real standard error, where errors and prompts go even
	// with --quiet, which points io.errOut nowhere.
	stderr io.Writer
	quiet  atomic.Bool
	// calling says that calls are in flight which an interrupt lets
	// finish (apply's), for what the first interrupt prints.
	calling atomic.Bool
	opts    globalOptions
	logger  *slog.Logger
	// stateDir holds the customers' ledgers and the run locks.
	stateDir string
	// configDir is invitectl's configuration folder ("" when there is
	// none); profileName and profile are the profile in use.
	configDir   string
	profileName string
	profile     profile.Profile
	// identity is what the last credentials were built from, for the
	// explanation of an authentication failure.
	identity auth.Identity
	// given are the context flags of the command line (givenFlags), which
	// the commands it tells the user to run next keep.
	given []string
	// warned are the warnings printed already: each is printed once.
	warned map[string]bool
	// world is the --sandbox world, served at sandboxURL from the first
	// call on.
	world      *emulator.World
	sandboxURL string
	// cleanup runs when the command ends (the sandbox's server).
	cleanup []func()
	// quitters run when a second interrupt quits at once (see onQuit).
	quitMu   sync.Mutex
	quitters []func()
}

// Annotations of commands.
const (
	// annotSetup says how much of the global set-up a command needs:
	// "none" (version, completion), or "lenient" (the profile commands,
	// auth login and logout: a --profile that does not exist yet is not
	// an error).
	annotSetup = "invitectl/setup"
	// annotInterrupt is what the command prints on the first interrupt.
	annotInterrupt = "invitectl/interrupt"
)

// run parses args, runs the command and returns the exit code.
func run(args []string, ios ioStreams) int {
	ios.out = &stdoutWriter{w: ios.out}
	a := &app{io: ios, stderr: ios.errOut, warned: map[string]bool{}}
	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetIn(ios.in)
	root.SetOut(ios.out)
	root.SetErr(ios.errOut)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	finished := make(chan struct{})
	defer close(finished)
	if ios.signals != nil {
		note := "invitectl: interrupted"
		if cmd, _, err := root.Find(args); err == nil && cmd.Annotations[annotInterrupt] != "" {
			note = cmd.Annotations[annotInterrupt]
		}
		sigs, stop := ios.signals()
		defer stop()
		go func() {
			var sig os.Signal
			select {
			case sig = <-sigs:
			case <-ctx.Done():
				return
			}
			again := "signal again"
			if sig == os.Interrupt {
				again = "press Ctrl-C again"
			}
			if !a.quiet.Load() {
				note := note
				if a.calling.Load() {
					note += "; finishing calls in flight"
				}
				fmt.Fprintf(ios.errOut, "%s (%s to quit at once)\n", note, again)
			}
			cancel()
			// Wait for the command to end, not for ctx, which has just ended:
			// a second signal meanwhile quits at once. The journal and the
			// ledger stay consistent (a torn last line is dropped on reading).
			select {
			case <-sigs:
				fmt.Fprintln(ios.errOut, "invitectl: quitting at once")
				a.quit()
				exit := ios.exit
				if exit == nil {
					exit = os.Exit
				}
				exit(exitInterrupted)
			case <-finished:
			}
		}()
	}
	err := root.ExecuteContext(ctx)
	for _, f := range a.cleanup {
		f()
	}
	return exitCode(auth.WithIdentity(err, a.identity), ios.errOut)
}

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "invitectl",
		Short: "Bulk invitations of unmanaged accounts through the Cloud Identity User Invitation API",
		Long: `invitectl invites the unmanaged consumer accounts of a Google Workspace or Cloud
Identity customer in bulk, or cancels their invitations: it reads a list of
addresses, checks which can be invited, writes a plan you review, executes it at
the API's pace without ever emailing anyone twice, and can resume after an
interruption.`,
		Version:       versionText(readBuildInfo()),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.setup(cmd)
		},
	}
	root.SetVersionTemplate("{{.Version}}")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w (see '%s --help')", err, cmd.CommandPath())}
	})
	f := root.PersistentFlags()
	f.StringVar(&a.opts.profile, "profile", "", "named profile of settings from the configuration file (env INVITECTL_PROFILE; default: the profile named default, if any)")
	f.StringVar(&a.opts.endpoint, "endpoint", "", "API base URL, for an emulator or test server (env INVITECTL_ENDPOINT); without credentials no authentication is sent")
	f.StringVar(&a.opts.customer, "customer", "", "customer ID, such as C03abc123 (env INVITECTL_CUSTOMER)")
	f.StringVar(&a.opts.apiVersion, "api-version", invitations.V1, "API version: v1 or v1beta1")
	f.CountVarP(&a.opts.verbose, "verbose", "v", "log more (-v: requests and retries; -v -v: the API client's own request log)")
	f.BoolVarP(&a.opts.quiet, "quiet", "q", false, "print nothing on stderr but errors: no progress, warnings or summaries (data on stdout stays)")
	f.StringVar(&a.opts.logFormat, "log-format", "text", "log format on stderr: text or json")
	f.BoolVar(&a.opts.noProgress, "no-progress", false, "no progress bar or progress lines on stderr")
	f.StringVar(&a.opts.credentials, "credentials", "", "service-account JSON key with domain-wide delegation (env INVITECTL_CREDENTIALS); needs --subject")
	f.StringVar(&a.opts.subject, "subject", "", "administrator the service account acts as (env INVITECTL_SUBJECT)")
	f.StringVar(&a.opts.impersonate, "impersonate-service-account", "", "service account to impersonate without a key, from Application Default Credentials (env INVITECTL_IMPERSONATE_SERVICE_ACCOUNT); needs --subject")
	f.StringVar(&a.opts.stateDir, "state-dir", "", "folder of the per-customer ledgers of every send and cancel (env INVITECTL_STATE_DIR; default $XDG_STATE_HOME/invitectl, ~/.local/state/invitectl, or %LocalAppData%\\invitectl on Windows)")
	f.StringVar(&a.opts.authEndpoint, "auth-endpoint", "", "base URL that replaces Google's OAuth, token and IAM Credentials endpoints, for an emulator or a test proxy (env INVITECTL_AUTH_ENDPOINT)")
	_ = f.MarkHidden("auth-endpoint")
	registerSandboxFlags(f, &a.opts)

	root.AddCommand(
		newEmulatorCmd(a),
		newListCmd(a),
		newGetCmd(a),
		newCheckCmd(a),
		newSendCmd(a),
		newCancelCmd(a),
		newPlanCmd(a),
		newRunCmd(a),
		newApplyCmd(a),
		newResumeCmd(a),
		newReportCmd(a),
		newStatusCmd(a),
		newAuthCmd(a),
		newProfileCmd(a),
		newVersionCmd(),
	)
	registerCompletions(a, root)
	return root
}

// setupOf is how much of the global set-up cmd needs: cobra's own
// commands (completion, help) and version need none.
func setupOf(cmd *cobra.Command) string {
	for c := cmd; c != nil; c = c.Parent() {
		if v, ok := c.Annotations[annotSetup]; ok {
			return v
		}
		switch c.Name() {
		case "completion", "help", cobra.ShellCompRequestCmd, cobra.ShellCompNoDescRequestCmd:
			return "none"
		}
	}
	return "all"
}

// setup builds the logger and settles every global setting: a flag wins
// over its environment variable, which wins over the profile.
func (a *app) setup(cmd *cobra.Command) error {
	need := setupOf(cmd)
	if need == "none" {
		return nil
	}
	a.given = givenFlags(cmd)
	if a.opts.quiet && a.opts.verbose > 0 {
		return usagef("--quiet and --verbose exclude each other")
	}
	if a.opts.quiet {
		a.quiet.Store(true)
		a.io.errOut = io.Discard
	}
	level := slog.LevelWarn
	switch {
	case a.opts.quiet:
		level = slog.LevelError
	case a.opts.verbose > 0:
		level = slog.LevelDebug
	}
	hopts := &slog.HandlerOptions{Level: level}
	switch a.opts.logFormat {
	case "text":
		a.logger = slog.New(auth.Redact(slog.NewTextHandler(a.stderr, hopts)))
	case "json":
		a.logger = slog.New(auth.Redact(slog.NewJSONHandler(a.stderr, hopts)))
	default:
		return usagef("--log-format %q: want text or json", a.opts.logFormat)
	}
	if err := a.selectProfile(need == "lenient"); err != nil {
		return err
	}
	a.applySettings(cmd)
	switch a.opts.apiVersion {
	case invitations.V1, invitations.V1Beta1:
	default:
		return usagef("--api-version %q: want v1 or v1beta1", a.opts.apiVersion)
	}
	if a.opts.sandbox {
		world, err := loadWorld(a.opts.sandboxWorld)
		if err != nil {
			return usageError{err}
		}
		a.world = &world
		if a.opts.customer == "" {
			a.opts.customer = world.Customer
		}
	}
	return a.setupStateDir()
}

// client builds the API port from the global options; readOnly asks for
// the read-only scope.
func (a *app) client(ctx context.Context, readOnly bool) (*invitations.Adapter, error) {
	if err := invitations.ValidateCustomer(a.opts.customer); err != nil {
		return nil, usageError{err}
	}
	ts, err := a.tokenSource(ctx, readOnly)
	if err != nil {
		return nil, err
	}
	return a.clientWith(ctx, ts)
}

// clientWith builds the API port authenticated by ts (nil: none).
func (a *app) clientWith(ctx context.Context, ts oauth2.TokenSource) (*invitations.Adapter, error) {
	if err := invitations.ValidateCustomer(a.opts.customer); err != nil {
		return nil, usageError{err}
	}
	if err := a.startSandbox(); err != nil {
		return nil, err
	}
	cfg := invitations.Config{
		Customer:    a.opts.customer,
		APIVersion:  a.opts.apiVersion,
		Endpoint:    a.opts.endpoint,
		TokenSource: ts,
		Transport:   invitations.NewTransport(),
		UserAgent:   "invitectl",
	}
	if a.opts.verbose >= 2 {
		cfg.Logger = a.logger // the generated client's request log; tokens are added after it logs
	}
	return invitations.New(ctx, cfg)
}

// scopes are the OAuth scopes a command needs.
func scopes(readOnly bool, extra ...string) []string {
	s := []string{scope.Invitations}
	if readOnly {
		s = []string{scope.InvitationsReadOnly}
	}
	return append(s, extra...)
}

// tokenSource builds the credentials the flags name; nil means none (an
// emulator). A setup problem is an auth failure: exit 4.
func (a *app) tokenSource(ctx context.Context, readOnly bool, extra ...string) (oauth2.TokenSource, error) {
	if a.opts.sandbox {
		return nil, a.startSandbox()
	}
	ts, id, err := auth.TokenSource(ctx, a.authOptions(scopes(readOnly, extra...)))
	a.identity = id
	if err != nil {
		return nil, authError{err}
	}
	a.logger.Debug("credentials", "mode", id.Mode, "principal", id.Principal, "subject", id.Subject, "scopes", strings.Join(id.Scopes, " "))
	return ts, nil
}

func (a *app) authOptions(sc []string) auth.Options {
	return auth.Options{
		Credentials:               a.opts.credentials,
		Subject:                   a.opts.subject,
		ImpersonateServiceAccount: a.opts.impersonate,
		Endpoint:                  a.opts.endpoint,
		AuthEndpoint:              a.opts.authEndpoint,
		Login:                     a.loginPath(),
		Scopes:                    sc,
		Getenv:                    a.io.getenv,
		Warn:                      a.warn,
	}
}

// warn prints a warning on stderr, once however often it is given (auth
// check builds its credentials three times), and not at all with --quiet.
func (a *app) warn(msg string) {
	if a.warned[msg] {
		return
	}
	a.warned[msg] = true
	fmt.Fprintln(a.io.errOut, "warning: "+safetext.Terminal(auth.Scrub(msg)))
}

// format validates a --format value against the ones a command offers.
func checkFormat(format string, allowed ...string) error {
	for _, f := range allowed {
		if format == f {
			return nil
		}
	}
	return usagef("--format %q: want %s", format, strings.Join(allowed, ", "))
}

// progressOut is where progress goes: stderr, which tells pkg/progress its
// width, or nowhere with --no-progress or --quiet.
func (a *app) progressOut() io.Writer {
	if a.opts.noProgress || a.opts.quiet {
		return nil
	}
	return terminalWriter{Writer: a.io.errOut, width: a.io.width}
}

// setupStateDir picks the ledger's folder: --state-dir, INVITECTL_STATE_DIR,
// the platform's per-user state folder, or, in the sandbox, a throwaway one
// (the sandbox's world lasts one command, so must its memory of sends).
func (a *app) setupStateDir() error {
	switch {
	case a.opts.stateDir != "":
		a.stateDir = a.opts.stateDir
	case a.opts.sandbox:
		dir, err := os.MkdirTemp("", "invitectl-sandbox-state-")
		if err != nil {
			return fmt.Errorf("sandbox: %w", err)
		}
		a.stateDir = dir
		a.cleanup = append(a.cleanup, func() { _ = os.RemoveAll(dir) })
	default:
		dir, err := ledger.Dir(a.io.getenv)
		if err != nil {
			return usageError{err}
		}
		a.stateDir = dir
	}
	return nil
}

// onQuit registers what must run even when a second interrupt quits at once:
// removing temporary files that hold the address list.
func (a *app) onQuit(f func()) {
	a.quitMu.Lock()
	defer a.quitMu.Unlock()
	a.quitters = append(a.quitters, f)
}

func (a *app) quit() {
	a.quitMu.Lock()
	defer a.quitMu.Unlock()
	for _, f := range a.quitters {
		f()
	}
}
