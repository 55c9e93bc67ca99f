package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/invitectl/invitectl/executor"
	"github.com/invitectl/invitectl/pkg/atomicfile"
	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/journal"
	"github.com/invitectl/invitectl/pkg/pace"
	"github.com/invitectl/invitectl/pkg/progress"
	"github.com/invitectl/invitectl/pkg/safetext"
	"github.com/invitectl/invitectl/pkg/words"
	"github.com/invitectl/invitectl/planner"
	"github.com/invitectl/invitectl/report"
)

// applyFlags are the flags of apply, resume and run that shape execution.
type applyFlags struct {
	results       string
	writeQPS      float64
	readQPS       float64
	workers       int
	yes           bool
	retryInDoubt  bool
	retryRejected bool
	noRefresh     bool
	settleDelay   time.Duration
	maxPlanAge    time.Duration
	limit         int
	yesPrune      bool
}

func (f *applyFlags) register(fs *pflag.FlagSet, withReadQPS bool) {
	fs.StringVar(&f.results, "results", "", "results journal (default: PLAN.results.jsonl beside the plan)")
	fs.Float64Var(&f.writeQPS, "write-qps", defaultWriteQPS, "sends and cancels per second")
	if withReadQPS {
		fs.Float64Var(&f.readQPS, "read-qps", defaultReadQPS, "API reads per second (reconciling gets)")
	}
	fs.IntVar(&f.workers, "workers", 256, "most calls in flight; the pool sizes itself below this from the rate and the latency")
	fs.BoolVarP(&f.yes, "yes", "y", false, "apply without asking for confirmation")
	fs.BoolVar(&f.retryInDoubt, "retry-in-doubt", false, "read back items an earlier run left in_doubt and retry those provably not done")
	fs.BoolVar(&f.retryRejected, "retry-rejected", false, "call again for items an earlier run ended rejected (refused for that address)")
	fs.BoolVar(&f.noRefresh, "no-refresh", false, "skip reading the invitations' current states before the first call (changes since the plan then go unnoticed)")
	durationVar(fs, &f.settleDelay, "settle-delay", executor.DefaultSettleDelay, "after a call whose outcome is unknown (timeout, reset, 5xx, a killed run), how long from its intent until a read-back showing no change proves it did not happen")
	durationVar(fs, &f.maxPlanAge, "max-plan-age", 0, "refuse a plan older than this (default: warn after 24h)")
	fs.IntVar(&f.limit, "limit", 0, "act on at most this many send and cancel items in this run (a pilot, or a daily batch); the rest wait for the next apply or resume (exit 5 while some are left)")
	fs.BoolVar(&f.yesPrune, "yes-prune", false, "confirm a --prune plan that cancels more than 20% of the customer's sent invitations or more than 50")
}

func (f *applyFlags) check() error {
	switch {
	case f.writeQPS < 0 || f.readQPS < 0:
		return usagef("--write-qps and --read-qps must not be negative")
	case f.workers < 1:
		return usagef("--workers must be at least 1")
	case f.maxPlanAge < 0:
		return usagef("--max-plan-age must not be negative")
	case f.settleDelay < 0:
		return usagef("--settle-delay must not be negative")
	case f.limit < 0:
		return usagef("--limit must not be negative")
	}
	return nil
}

func newApplyCmd(a *app) *cobra.Command {
	var f applyFlags
	cmd := &cobra.Command{
		Use:   "apply PLAN",
		Short: "Execute a plan: send and cancel at the API's pace, exactly once, resumably",
		Long: `Executes the send and cancel items of a plan made by 'invitectl plan'. Every
mutating call is recorded in the results journal before it leaves; when an
outcome is unknown (timeout, 5xx, crash) the invitation is read back before any
second call, so nobody is emailed twice. Interrupt with Ctrl-C and continue
later with 'invitectl resume RESULTS' (or apply again). At the end the results
are printed and written as RESULTS.csv beside the journal.

With --limit N a run acts on at most N items (a pilot, or a daily batch);
apply or resume again for the next ones.

Exit codes: 0 every item done or skipped, 3 some rejected, failed or in doubt,
5 this batch is done but --limit left items for the next run, 4
authentication, 130 interrupted, 2 a plan or journal that cannot be used.`,
		Example: `  invitectl apply plan.jsonl
  invitectl apply plan.jsonl --yes --write-qps 5
  invitectl apply plan.jsonl --limit 10          # a pilot
  invitectl apply plan.jsonl --yes --limit 500   # one daily batch, from cron`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.check(); err != nil {
				return err
			}
			return a.apply(cmd.Context(), args[0], f, true)
		},
	}
	f.register(cmd.Flags(), true)
	return cmd
}

func newResumeCmd(a *app) *cobra.Command {
	var f applyFlags
	cmd := &cobra.Command{
		Use:   "resume RESULTS",
		Short: "Continue an interrupted apply from its results journal",
		Long: `Continues the plan that RESULTS records: items with a final outcome are
skipped, calls whose outcome was never recorded are reconciled by reading the
invitation back, and the rest is applied. With --limit N it takes up at most N
items (a daily batch from cron) and exits 5 while items are left.`,
		Example: `  invitectl resume plan.results.jsonl
  invitectl resume plan.results.jsonl --limit 500 --no-progress   # a daily batch`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.check(); err != nil {
				return err
			}
			h, err := journal.ReadHeader(args[0]) // the plan's path; Open reads the rest
			if err != nil {
				return usageError{err}
			}
			f.results = args[0]
			return a.apply(cmd.Context(), h.Plan.Path, f, false)
		},
	}
	f.register(cmd.Flags(), true)
	cmd.Flags().Lookup("results").Hidden = true
	cmd.Flags().Lookup("yes").Hidden = true
	cmd.Flags().Lookup("yes-prune").Hidden = true // resume asks nothing: apply was confirmed
	return cmd
}

// apply runs a plan; confirm asks first (apply, run) unless --yes.
func (a *app) apply(ctx context.Context, planPath string, f applyFlags, confirm bool) error {
	command := "apply"
	if !confirm {
		command = "resume"
	}
	run, err := executor.Open(executor.OpenConfig{
		Plan: planPath, Results: f.results, Customer: a.opts.customer, StateDir: a.stateDir,
		MaxPlanAge: f.maxPlanAge, Command: command,
		Confirm: func(r *executor.Run) error {
			for _, w := range r.Warnings {
				fmt.Fprintln(a.io.errOut, "warning: "+safetext.Terminal(w))
			}
			work := r.Work(f.retryRejected)
			if f.limit > 0 {
				work = min(work, f.limit)
			}
			switch {
			case work == 0 && r.Plan.Summary.Send+r.Plan.Summary.Cancel == 0:
				fmt.Fprintf(a.io.errOut, "Nothing to do: the plan %s has no send or cancel (every row is none; the summary plan printed says why).\n", safetext.Terminal(planPath))
				return nil
			case work == 0:
				fmt.Fprintf(a.io.errOut, "Nothing left to do: every send and cancel of %s has an outcome in %s.\n", safetext.Terminal(planPath), safetext.Terminal(r.Results))
				return nil
			}
			if line := planner.QuotaLine(r.Learned(), work); line != "" {
				fmt.Fprintln(a.io.errOut, line)
			}
			if !confirm {
				return nil
			}
			if err := a.confirmPrune(ctx, r.Plan.Header, r.Plan.Summary, planPath, f.yesPrune); err != nil {
				return err
			}
			if f.yes {
				return nil
			}
			return a.confirm(ctx, r.Plan.Header, r.Plan.Summary, planPath, f.limit)
		},
	})
	var usage *executor.UsageError
	switch {
	case errors.As(err, &usage):
		return usageError{err}
	case err != nil:
		return err
	}
	defer run.Close()
	h := run.Plan.Header
	a.opts.customer = h.Customer
	if h.APIVersion != "" {
		a.opts.apiVersion = h.APIVersion
	}
	client, err := a.client(ctx, false)
	if err != nil {
		return err
	}
	j := run.Journal
	_ = j.Append(journal.Record{Type: journal.TypeRun, At: time.Now().UTC(), Event: "start", PID: os.Getpid()})

	pacer := pace.New(pace.Config{ReadQPS: f.readQPS, WriteQPS: f.writeQPS, State: run.Learned()})
	write, read := pacer.Limiter(pace.Write), pacer.Limiter(pace.Read)
	retry := pace.Policy{}
	var moved map[string]string
	todo := run.ToRefresh(f.retryRejected) // what this run calls for afresh
	work := run.Work(f.retryRejected)
	if f.limit > 0 {
		work = min(work, f.limit)
	}
	if !f.noRefresh {
		ref, err := executor.RefreshUpTo(ctx, executor.RefreshConfig{Client: client, Limiter: read, Retry: retry, Listed: h.Listed}, todo, f.limit)
		if errors.Is(err, executor.ErrInterrupted) {
			fmt.Fprintf(a.io.errOut, "\nInterrupted before the first call: nothing was sent.\nResume with: %s\n", a.nextCommand("resume", run.Results))
			return context.Canceled
		}
		if err != nil {
			return err
		}
		if ref.Checked > 0 {
			fmt.Fprintf(a.io.errOut, "Refreshed %s with %s: %d moved since the plan and will be skipped.\n",
				words.Count(int64(ref.Checked), "invitation", "invitations"), words.Count(int64(ref.Calls), ref.How+" call", ref.How+" calls"), len(ref.Moved))
		}
		moved = ref.Moved
	}

	sum := run.Plan.Summary
	total := sum.Send + sum.Cancel + sum.None
	var stats executor.Stats
	var meter progress.Meter
	pr := progress.Start(a.progressOut(), a.io.stderrTTY, "applying", 0, func() progress.Status {
		done := int(stats.Finished())
		calls := int(stats.Calls.Load())
		note := fmt.Sprintf("(calls/s; calls %d, retries %d, quota errors %d; %s)", calls, stats.Retries.Load(), stats.QuotaErrors.Load(), pacer.Describe())
		if p := stats.Parked.Load(); p > 0 {
			note += fmt.Sprintf(", %d waiting to settle", p)
		}
		// The sends and cancels this run has left, at the learned quota's
		// pace, or at the pace calls go now when that is faster: until a 429
		// teaches it the quota, the pacer assumes Google's lowest.
		left := int64(work) - stats.Done.Load() - stats.Rejected.Load() - stats.Failed.Load() - stats.InDoubt.Load() - stats.Conflicts.Load() - stats.Moved.Load()
		rate := meter.Rate(calls, time.Now())
		var eta time.Duration
		if left > 0 {
			eta = fasterETA(pacer.ETA(0, int(left)), left, rate)
		}
		return progress.Status{Done: done, Total: total, Failed: int(stats.Problems()), Rate: rate, Count: calls, Note: note, ETA: eta}
	})
	a.calling.Store(true)
	runErr := executor.Apply(ctx, executor.Config{
		Client: client, Journal: j, Resume: run.Resume, Write: write, Read: read, Retry: retry,
		MaxWorkers: f.workers, RetryInDoubt: f.retryInDoubt, RetryRejected: f.retryRejected, Logger: a.logger,
		Ledger: run.Ledger, Source: run.Source, PlanCreated: h.CreatedAt, Moved: moved, SettleDelay: f.settleDelay,
		Judge: invitations.NewJudge(invitations.Probe(client, invitations.PacedReads(read, retry))), Limit: f.limit,
	}, run.Items(), &stats)
	a.calling.Store(false)
	pr.Stop()

	event := "end"
	if errors.Is(runErr, executor.ErrInterrupted) {
		event = "interrupted"
	}
	var paceState *pace.State
	if st := pacer.State(); len(st.Quotas) > 0 {
		paceState = &st
	}
	_ = j.Append(journal.Record{Type: journal.TypeRun, At: time.Now().UTC(), Event: event, PID: os.Getpid(), Pace: paceState, Counts: &journal.RunCounts{
		Done: int(stats.Done.Load()), Skipped: int(stats.Skipped.Load()), Rejected: int(stats.Rejected.Load()),
		Failed: int(stats.Failed.Load()), InDoubt: int(stats.InDoubt.Load()), Calls: int(stats.Calls.Load()),
		Retries: int(stats.Retries.Load()), QuotaErrors: int(stats.QuotaErrors.Load()),
	}})
	if err := run.Close(); err != nil && runErr == nil {
		runErr = err
	}
	// The journal's state, earlier runs' and this one's, without reading it
	// again.
	results, err := a.writeResults(report.ResultsOf(run.Journal.State(), run.Results))
	if err != nil && runErr == nil {
		runErr = err
	}
	switch {
	case errors.Is(runErr, executor.ErrInterrupted):
		fmt.Fprintf(a.io.errOut, "\nInterrupted: calls in flight finished and everything is recorded.\nResume with: %s\n", a.nextCommand("resume", run.Results))
		return context.Canceled
	case errors.As(runErr, new(*pace.DailyQuotaError)):
		return hinted{quotaHint(runErr), "Everything so far is recorded. Resume then with: " + a.nextCommand("resume", run.Results)}
	case runErr != nil:
		return runErr
	case results.NeedAttention > 0: // this run's problems and those earlier runs left
		a.sayLeft(stats.Deferred.Load(), f.limit, run.Results)
		return partialError{results.NeedAttention}
	case stats.Deferred.Load() > 0:
		left := stats.Deferred.Load()
		a.sayLeft(left, f.limit, run.Results)
		return moreError{int(left)}
	}
	return nil
}

// sayLeft says how many items --limit left for the next run, and the
// command that takes up the next batch.
func (a *app) sayLeft(left int64, limit int, results string) {
	if left <= 0 {
		return
	}
	fmt.Fprintf(a.io.errOut, "%s left for the next run (--limit %d): %s\n", words.Count(left, "item", "items"), limit, a.nextCommand("resume", results, "--limit", strconv.Itoa(limit)))
}

// confirm shows what the plan will do and asks on a terminal; without one
// it refuses: nobody is emailed without an explicit yes. Anything but yes,
// the end of input included, declines: a usage error, exit 2. The
// question goes to stderr even with --quiet, which silences statuses, not
// questions.
func (a *app) confirm(ctx context.Context, h planner.Header, sum planner.Summary, path string, limit int) error {
	if !a.io.stdinTTY {
		return usagef("not applying %s without confirmation: there is no terminal to ask on; pass --yes", path)
	}
	fmt.Fprintf(a.stderr, "Plan %s for customer %s: %s to send, %s to cancel, %s with nothing to do.\n",
		safetext.Terminal(path), safetext.Terminal(h.Customer), words.Count(int64(sum.Send), "invitation email", "invitation emails"),
		words.Count(int64(sum.Cancel), "invitation", "invitations"), words.Count(int64(sum.None), "row", "rows"))
	if limit > 0 && sum.Send+sum.Cancel > limit {
		fmt.Fprintf(a.stderr, "This run acts on at most %d of them (--limit); the rest wait for the next run.\n", limit)
	}
	fmt.Fprint(a.stderr, "Apply it? Type yes to continue: ")
	line, err := interruptible(ctx, func() (string, error) { return readLine(a.io.in) })
	if err != nil {
		return fmt.Errorf("read the answer: %w", err)
	}
	if line == "" {
		fmt.Fprintln(a.stderr) // end the question's line (the input may have ended)
	}
	if strings.TrimSpace(strings.ToLower(line)) != "yes" {
		return usagef("not applied: the answer was not yes")
	}
	return nil
}

// writeResults prints the summary of the whole journal and writes
// RESULTS.csv beside it: every plan item, pending ones included.
func (a *app) writeResults(res *report.Results) (report.Summary, error) {
	if res.Warning != "" {
		fmt.Fprintln(a.io.errOut, "warning: "+safetext.Terminal(res.Warning))
	}
	csvPath := strings.TrimSuffix(res.Journal, ".jsonl") + ".csv"
	if err := atomicfile.WriteFile(csvPath, func(w io.Writer) error { return report.WriteCSV(w, res) }); err != nil {
		return report.Summary{}, err
	}
	sum := res.Summarize()
	sum.NextFlags = a.nextFlags()
	// A closed stdout cuts the table, not the run: the journal and the CSV
	// hold the results, and the exit code still says how the run went.
	if err := report.WriteTable(a.io.out, sum, a.width()); err != nil && !errors.Is(err, errStdoutClosed) {
		return sum, err
	}
	fmt.Fprintf(a.io.errOut, "Results: %s (journal), %s (CSV)\n", safetext.Terminal(res.Journal), safetext.Terminal(csvPath))
	return sum, nil
}

// quotaHint adds, to a spent daily quota, what the administrator can do.
func quotaHint(err error) error {
	var d *pace.DailyQuotaError
	if !errors.As(err, &d) {
		return err
	}
	return fmt.Errorf("%w (Google's quota for this API is per day; nothing more can be sent before it resets)", err)
}

// fasterETA is the pacer's estimate for the calls left, or their time at
// rate (calls per second, as measured; 0 when not yet known) when shorter.
func fasterETA(paced time.Duration, left int64, rate float64) time.Duration {
	if rate <= 0 {
		return paced
	}
	return min(paced, time.Duration(float64(left)/rate*float64(time.Second)))
}
