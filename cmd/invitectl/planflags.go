package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/oauth2"

	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/ledger"
	"github.com/invitectl/invitectl/pkg/pace"
	"github.com/invitectl/invitectl/pkg/progress"
	"github.com/invitectl/invitectl/pkg/safetext"
	"github.com/invitectl/invitectl/pkg/scope"
	"github.com/invitectl/invitectl/pkg/source"
	"github.com/invitectl/invitectl/pkg/words"
	"github.com/invitectl/invitectl/planner"
)

// Default paces. The API publishes no quota; these stay well below the
// per-minute defaults Google gives comparable admin APIs, and the limiter
// slows down further on the first 429.
const (
	defaultReadQPS  = 25
	defaultWriteQPS = 10
)

// inputFlags name a campaign input and say how to read it: plan and run
// take them, and the single commands' -i.
type inputFlags struct {
	input       string
	emailColumn string
	delimiter   string
	encoding    string
}

func (f *inputFlags) register(fs *pflag.FlagSet, usage string) {
	fs.StringVarP(&f.input, "input", "i", "", usage)
	fs.StringVar(&f.emailColumn, "email-column", "", "name of the address column when it is not found by its header")
	fs.StringVar(&f.delimiter, "delimiter", "", "field delimiter (',', ';', 'tab'); detected from the content when empty")
	fs.StringVar(&f.encoding, "encoding", "", "the file's encoding when it is not UTF-8: "+strings.Join(source.Encodings[1:], ", ")+
		" (UTF-16 with a byte-order mark is detected)")
}

// positional takes the input from the command line's argument, as an
// alternative to -i.
func (f *inputFlags) positional(args []string) error {
	if len(args) == 0 {
		return nil
	}
	if f.input != "" && f.input != args[0] {
		return usagef("two inputs: %q and -i %q; give one", args[0], f.input)
	}
	f.input = args[0]
	return nil
}

func (f *inputFlags) sourceOptions() (source.Options, error) {
	o := source.Options{EmailColumn: f.emailColumn, Encoding: strings.ToLower(f.encoding)}
	switch f.delimiter {
	case "":
	case "tab", `\t`:
		o.Delimiter = '\t'
	default:
		r := []rune(f.delimiter)
		if len(r) != 1 {
			return o, usagef("--delimiter %q: want one character or 'tab'", f.delimiter)
		}
		o.Delimiter = r[0]
	}
	if o.Encoding != "" && !slices.Contains(source.Encodings, o.Encoding) {
		return o, usagef("--encoding %q: want one of %s", f.encoding, strings.Join(source.Encodings, ", "))
	}
	return o, nil
}

// scopes are the OAuth scopes that reading the input needs besides the
// command's own: a spreadsheet is read with the token of the API calls.
func (f *inputFlags) scopes() []string {
	if source.IsSheetsURL(f.input) {
		return []string{scope.SheetsReadOnly}
	}
	return nil
}

// stdinArg is the input that names standard input, and stdinName how it
// is named in errors and in the plan.
const (
	stdinArg  = "-"
	stdinName = "stdin"
)

// load reads the input whole, once, before any API call: a file that is not
// a campaign fails now, even from its last line, and a pipe, a FIFO or
// standard input (-i -) is read only once. A sheet is read through ts.
func (a *app) load(ctx context.Context, f *inputFlags, ts oauth2.TokenSource) (*source.Loaded, error) {
	opts, err := f.sourceOptions()
	if err != nil {
		return nil, err
	}
	var read func(fn func(source.Target) error) (source.Info, error)
	switch {
	case f.input == stdinArg:
		read = func(fn func(source.Target) error) (source.Info, error) {
			return source.Read(a.io.in, stdinName, opts, fn)
		}
	case source.IsSheetsURL(f.input):
		cfg := source.SheetsConfig{Endpoint: a.opts.endpoint, HTTPClient: authedClient(ts)}
		read = func(fn func(source.Target) error) (source.Info, error) {
			return source.ReadSheet(ctx, f.input, cfg, opts, fn)
		}
	default:
		read = func(fn func(source.Target) error) (source.Info, error) {
			return source.ReadFile(f.input, opts, fn)
		}
	}
	in, err := interruptible(ctx, func() (*source.Loaded, error) { return source.Load(read) })
	if err != nil {
		return nil, err
	}
	if in.Info().Rows == 0 {
		// Planning nothing would still list the customer's invitations, and
		// a header alone is a mistake more often than a wish.
		return nil, usagef("%s has a header and no addresses under it: nothing to do", in.Info().Path)
	}
	return in, nil
}

// planFlags are the flags of plan and run that shape a plan.
type planFlags struct {
	inputFlags
	action           string
	resendAfter      time.Duration
	reinviteDeclined bool
	prune            bool
	checkListed      bool
	trustList        bool // deprecated: the default now
	readQPS          float64
	lagWindow        time.Duration
	maxMails         int64
}

func (p *planFlags) register(f *pflag.FlagSet) {
	p.inputFlags.register(f, "the campaign: a file (CSV, TSV, a list of addresses, a Sheets or Excel download, an Admin console export, GAM output), - for standard input, "+
		"sheets://SPREADSHEET_ID[/RANGE] or a Google Sheets URL; or give it as the argument")
	f.StringVar(&p.action, "action", "invite", "what rows without an action column ask for: invite or cancel")
	durationVar(f, &p.resendAfter, "resend-after", 0, "re-send INVITED invitations not updated for this long (e.g. 7d or 168h); 0 never re-sends")
	f.BoolVar(&p.reinviteDeclined, "reinvite-declined", false, "send again to people who declined")
	f.Int64Var(&p.maxMails, "max-mails", 0, "never plan a send to an address that has had this many emails already (none/max_mails); 0: no cap")
	f.BoolVar(&p.prune, "prune", false, "cancel sent invitations the input does not name (invite campaigns only)")
	f.BoolVar(&p.checkListed, "check-listed", false, "ask isInvitableUser for listed NOT_YET_SENT accounts too (by default their send decides: a send to an account that is no longer invitable is refused and emails no one)")
	f.BoolVar(&p.trustList, "trust-list", false, "the default now; see --check-listed")
	_ = f.MarkHidden("trust-list") // cobra's deprecation notice would go to stdout, among the data
	f.Float64Var(&p.readQPS, "read-qps", defaultReadQPS, "API reads per second (list, isInvitableUser, get)")
	durationVar(f, &p.lagWindow, "lag-window", planner.DefaultLagWindow, "how long after invitectl's own send or cancel the listing is assumed not to show it: such addresses are not sent to again (recently_sent)")
}

func (p *planFlags) policy() (planner.Policy, error) {
	pol := planner.Policy{
		Action: planner.Wanted(p.action), ResendAfter: planner.Duration(p.resendAfter),
		ReinviteDeclined: p.reinviteDeclined, Prune: p.prune, TrustList: !p.checkListed, MaxMails: p.maxMails,
	}
	switch {
	case pol.Action != planner.WantInvite && pol.Action != planner.WantCancel:
		return pol, usagef("--action %q: want invite or cancel", p.action)
	case p.resendAfter < 0:
		return pol, usagef("--resend-after must not be negative")
	case p.prune && pol.Action != planner.WantInvite:
		return pol, usagef("--prune applies to invite campaigns only")
	case p.maxMails < 0:
		return pol, usagef("--max-mails must not be negative")
	case p.readQPS < 0:
		return pol, usagef("--read-qps must not be negative")
	case p.lagWindow < 0:
		return pol, usagef("--lag-window must not be negative")
	case p.input == "":
		return pol, usagef("no input: give a file (or -i FILE), - for standard input, or a Google Sheets URL")
	}
	if _, err := p.sourceOptions(); err != nil {
		return pol, err
	}
	return pol, nil
}

// buildPlan runs the planner with progress on stderr and returns the path
// of the complete plan (a temporary one when out is empty) and its writer,
// which the caller closes.
func (a *app) buildPlan(ctx context.Context, p *planFlags, out string) (string, *planner.FileWriter, error) {
	pol, err := p.policy()
	if err != nil {
		return "", nil, err
	}
	unique := false
	if out == defaultPlan {
		out, unique = defaultPlanName(time.Now()), true
	}
	input := p.input
	if input == stdinArg {
		input = ""
	}
	if err := checkOutput(out, "plan.jsonl", input); err != nil {
		return "", nil, err
	}
	if p.trustList {
		fmt.Fprintln(a.io.errOut, "warning: --trust-list is the default now and will go away: listed NOT_YET_SENT accounts are not checked unless --check-listed")
	}
	if err := invitations.ValidateCustomer(a.opts.customer); err != nil {
		return "", nil, usageError{err}
	}
	ts, err := a.tokenSource(ctx, true, p.scopes()...) // one token for both APIs
	if err != nil {
		return "", nil, err
	}
	in, err := a.load(ctx, &p.inputFlags, ts)
	if err != nil {
		return "", nil, err
	}
	rows := in.Info().Rows
	c, err := a.clientWith(ctx, ts)
	if err != nil {
		return "", nil, err
	}
	w, err := planner.CreateFile(out)
	if err != nil {
		return "", nil, err
	}
	w.Unique = unique
	a.onQuit(func() { _ = w.Close() }) // its temporary files hold the address list
	led, err := ledger.Open(a.stateDir, a.opts.customer, ledger.Options{Since: time.Now().Add(-p.lagWindow)})
	if err != nil {
		_ = w.Close()
		return "", nil, err
	}
	defer led.Close()
	pacer := pace.New(pace.Config{ReadQPS: p.readQPS})
	limiter := pacer.Limiter(pace.Read)
	retry := pace.Policy{}
	cfg := planner.Config{Client: c, Customer: a.opts.customer, APIVersion: a.opts.apiVersion, Policy: pol, Limiter: limiter, Rows: rows,
		Retry: retry, Ledger: led, LagWindow: p.lagWindow,
		Judge: invitations.NewJudge(invitations.Probe(c, invitations.PacedReads(limiter, retry)))}
	if out != "" {
		checks, reused, err := planner.OpenChecks(planner.ChecksPath(out), a.opts.customer, in.Info().SHA256, checksMaxAge)
		if err != nil {
			_ = w.Close()
			return "", nil, err
		}
		defer checks.Close()
		cfg.Checks = checks
		if reused > 0 {
			fmt.Fprintf(a.io.errOut, "Continuing an interrupted plan of this input: %s reused (%s).\n",
				words.Count(int64(reused), "answer already paid for is", "answers already paid for are"), safetext.Terminal(planner.ChecksPath(out)))
		}
	}
	var stats planner.Stats
	var meter progress.Meter
	pr := progress.Start(a.progressOut(), a.io.stderrTTY, "planning", 0, func() progress.Status {
		done := int(stats.Rows.Load())
		// The rows left will need reads at the rate the rows so far did,
		// at the learned quota's pace.
		reads := stats.Checks.Load() + stats.Gets.Load()
		var eta time.Duration
		if done > 0 && rows > done {
			eta = pacer.ETA(int(float64(reads)/float64(done)*float64(rows-done)), 0)
		}
		return progress.Status{
			Done: done, Total: rows, Rate: meter.Rate(done, time.Now()), Count: done, Failed: int(stats.Failed.Load()), ETA: eta,
			Note: fmt.Sprintf("(listed %d, checked %d; %s)", stats.Listed.Load(), stats.Checks.Load(), pacer.Describe()),
		}
	})
	hdr, err := planner.Build(ctx, cfg, in.Each, &stats, w.Emit)
	pr.Stop()
	if err != nil {
		_ = w.Close()
		dropEmptyChecks(cfg.Checks)
		return "", nil, quotaHint(err)
	}
	if st := pacer.State(); len(st.Quotas) > 0 {
		hdr.Pace = &st
	}
	path, err := w.Commit(hdr)
	if err != nil {
		_ = w.Close()
		return "", nil, err
	}
	if err := cfg.Checks.Remove(); err != nil {
		fmt.Fprintf(a.io.errOut, "warning: %v\n", err)
	}
	return path, w, nil
}

// dropEmptyChecks removes the planning journal of a plan that failed (or
// was interrupted) before any answer was paid for: it holds nothing for the
// next plan to reuse, and would only be left beside a plan that does not
// exist. One that holds answers stays, as the next plan's head start.
func dropEmptyChecks(checks *planner.Checks) {
	if checks.Empty() {
		_ = checks.Remove()
		return
	}
	_ = checks.Close() // flushes what was paid for
}

// checksMaxAge is how long the answers of an interrupted plan are trusted:
// people accept and accounts change, so a day-old check is asked again.
const checksMaxAge = 24 * time.Hour

// defaultPlan asks buildPlan for a new, timestamped plan file: a plan never
// silently replaces last week's, which its journal names.
const defaultPlan = "\x00default"

// defaultPlanName is invitectl-plan-YYYYMMDD-HHMMSS.jsonl (UTC); the writer
// adds -2, -3... when it exists.
func defaultPlanName(now time.Time) string {
	return "invitectl-plan-" + now.UTC().Format("20060102-150405") + ".jsonl"
}

// checkOutput refuses, before anything is read or called, an -o path that
// cannot or must not be written: a folder, a file in a folder that does not
// exist, a plan that has a results journal, or one of the files the
// command reads. example names a file of the kind written, for the message.
func checkOutput(out, example string, reads ...string) error {
	if out == "" {
		return nil // stdout, or a dry run's temporary plan
	}
	if fi, err := os.Stat(out); err == nil && fi.IsDir() {
		return usagef("-o %s is a folder: name the file to write, such as %s", out, filepath.Join(out, example))
	}
	dir := filepath.Dir(out)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return usagef("-o %s: the folder %s does not exist", out, dir)
	}
	// A plan with a journal is that journal's: replacing it would leave the
	// journal naming a plan that is gone (its pending items, its columns).
	if journal := strings.TrimSuffix(out, ".jsonl") + ".results.jsonl"; fileExists(out) && fileExists(journal) {
		return usagef("-o %s: that plan has a results journal (%s), which names it; write to another file", out, journal)
	}
	if fi, err := os.Stat(out); err == nil {
		for _, r := range reads {
			if ri, err := os.Stat(r); err == nil && os.SameFile(fi, ri) {
				return usagef("-o %s is %s, which this command reads; write to another file", out, r)
			}
		}
	}
	return nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
