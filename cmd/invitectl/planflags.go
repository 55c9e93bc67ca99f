package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/oauth2"

	"github.com/invitectl/invitectl/pkg/auth"
	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/pace"
	"github.com/invitectl/invitectl/pkg/progress"
	"github.com/invitectl/invitectl/pkg/source"
	"github.com/invitectl/invitectl/planner"
)

// Default paces. The API publishes no quota; these stay well below the
// per-minute defaults Google gives comparable admin APIs, and the limiter
// slows down further on the first 429.
const (
	defaultReadQPS  = 25
	defaultWriteQPS = 10
)

// planFlags are the flags of plan and run that shape a plan.
type planFlags struct {
	input            string
	action           string
	resendAfter      time.Duration
	reinviteDeclined bool
	prune            bool
	trustList        bool
	readQPS          float64
	emailColumn      string
	delimiter        string
}

func (p *planFlags) register(f *pflag.FlagSet) {
	f.StringVarP(&p.input, "input", "i", "", "campaign file (CSV, TSV, Sheets download, Admin console export, GAM output) or sheets://SPREADSHEET_ID[/RANGE]")
	f.StringVar(&p.action, "action", "invite", "what rows without an action column ask for: invite or cancel")
	f.DurationVar(&p.resendAfter, "resend-after", 0, "re-send INVITED invitations not updated for this long (e.g. 168h); 0 never re-sends")
	f.BoolVar(&p.reinviteDeclined, "reinvite-declined", false, "send again to people who declined")
	f.BoolVar(&p.prune, "prune", false, "cancel sent invitations the input does not name (invite campaigns only)")
	f.BoolVar(&p.trustList, "trust-list", false, "take listed NOT_YET_SENT accounts as invitable without asking isInvitableUser")
	f.Float64Var(&p.readQPS, "read-qps", defaultReadQPS, "API reads per second (list, isInvitableUser, get)")
	f.StringVar(&p.emailColumn, "email-column", "", "name of the address column when it is not found by its header")
	f.StringVar(&p.delimiter, "delimiter", "", "field delimiter (',', ';', 'tab'); detected from the content when empty")
}

func (p *planFlags) policy() (planner.Policy, error) {
	pol := planner.Policy{
		Action: planner.Wanted(p.action), ResendAfter: planner.Duration(p.resendAfter),
		ReinviteDeclined: p.reinviteDeclined, Prune: p.prune, TrustList: p.trustList,
	}
	switch {
	case pol.Action != planner.WantInvite && pol.Action != planner.WantCancel:
		return pol, usagef("--action %q: want invite or cancel", p.action)
	case p.resendAfter < 0:
		return pol, usagef("--resend-after must not be negative")
	case p.prune && pol.Action != planner.WantInvite:
		return pol, usagef("--prune applies to invite campaigns only")
	case p.readQPS < 0:
		return pol, usagef("--read-qps must not be negative")
	case p.input == "":
		return pol, usagef("no input: pass -i FILE or -i sheets://SPREADSHEET_ID")
	}
	return pol, nil
}

func (p *planFlags) sourceOptions() (source.Options, error) {
	o := source.Options{EmailColumn: p.emailColumn}
	switch p.delimiter {
	case "":
	case "tab", `\t`:
		o.Delimiter = '\t'
	default:
		r := []rune(p.delimiter)
		if len(r) != 1 {
			return o, usagef("--delimiter %q: want one character or 'tab'", p.delimiter)
		}
		o.Delimiter = r[0]
	}
	return o, nil
}

// targets returns the input as a stream of targets and, for a file, its
// number of rows. A file is read whole once here, before any API call, so
// that a file that is not a campaign fails now, even from its last line;
// the count sizes the progress bar. A Sheet, read through ts, is fetched
// once, by the planner.
func (a *app) targets(ctx context.Context, p *planFlags, ts oauth2.TokenSource) (planner.Targets, int, error) {
	opts, err := p.sourceOptions()
	if err != nil {
		return nil, 0, err
	}
	if source.IsSheetsURL(p.input) {
		var rt http.RoundTripper = invitations.NewTransport()
		if ts != nil {
			rt = &oauth2.Transport{Source: ts, Base: rt}
		}
		cfg := source.SheetsConfig{Endpoint: a.opts.endpoint, HTTPClient: &http.Client{Transport: rt}}
		return func(fn func(source.Target) error) (source.Info, error) {
			return source.ReadSheet(ctx, p.input, cfg, opts, fn)
		}, 0, nil
	}
	read := func(fn func(source.Target) error) (source.Info, error) {
		return source.ReadFile(p.input, opts, fn)
	}
	info, err := read(func(source.Target) error { return nil })
	if err != nil {
		return nil, 0, err
	}
	return read, info.Rows, nil
}

// buildPlan runs the planner with progress on stderr and returns the path
// of the complete plan (a temporary one when out is empty) and its writer,
// which the caller closes.
func (a *app) buildPlan(ctx context.Context, p *planFlags, out string) (string, *planner.FileWriter, error) {
	pol, err := p.policy()
	if err != nil {
		return "", nil, err
	}
	if err := invitations.ValidateCustomer(a.opts.customer); err != nil {
		return "", nil, usageError{err}
	}
	var extra []string
	if source.IsSheetsURL(p.input) {
		extra = append(extra, auth.ScopeSheetsReadOnly) // one token for both APIs
	}
	ts, err := a.tokenSource(ctx, true, extra...)
	if err != nil {
		return "", nil, err
	}
	targets, rows, err := a.targets(ctx, p, ts)
	if err != nil {
		return "", nil, err
	}
	c, err := a.clientWith(ctx, ts)
	if err != nil {
		return "", nil, err
	}
	w, err := planner.CreateFile(out)
	if err != nil {
		return "", nil, err
	}
	limiter := pace.NewLimiter(p.readQPS)
	cfg := planner.Config{Client: c, Customer: a.opts.customer, APIVersion: a.opts.apiVersion, Policy: pol, Limiter: limiter}
	var stats planner.Stats
	var meter progress.Meter
	pr := progress.Start(a.progressOut(), a.io.stderrTTY, "planning", 0, func() progress.Status {
		done := int(stats.Rows.Load())
		return progress.Status{
			Done: done, Total: rows, Rate: meter.Rate(done, time.Now()), Count: done, Failed: int(stats.Failed.Load()),
			Note: fmt.Sprintf("(listed %d, checked %d, read limit %.0f/s)", stats.Listed.Load(), stats.Checks.Load(), limiter.Rate()),
		}
	})
	hdr, err := planner.Build(ctx, cfg, targets, &stats, w.Emit)
	pr.Stop()
	if err != nil {
		_ = w.Close()
		return "", nil, err
	}
	path, err := w.Commit(hdr)
	if err != nil {
		_ = w.Close()
		return "", nil, err
	}
	return path, w, nil
}
