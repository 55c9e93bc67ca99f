package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/invitectl/invitectl/executor"
	"github.com/invitectl/invitectl/pkg/pace"
	"github.com/invitectl/invitectl/pkg/progress"
	"github.com/invitectl/invitectl/planner"
	"github.com/invitectl/invitectl/report"
)

// applyFlags are the flags of apply, resume and run that shape execution.
type applyFlags struct {
	results      string
	writeQPS     float64
	readQPS      float64
	workers      int
	yes          bool
	retryInDoubt bool
	maxPlanAge   time.Duration
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
	fs.DurationVar(&f.maxPlanAge, "max-plan-age", 0, "refuse a plan older than this (default: warn after 24h)")
}

func (f *applyFlags) check() error {
	switch {
	case f.writeQPS < 0 || f.readQPS < 0:
		return usagef("--write-qps and --read-qps must not be negative")
	case f.workers < 1:
		return usagef("--workers must be at least 1")
	case f.maxPlanAge < 0:
		return usagef("--max-plan-age must not be negative")
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

Exit codes: 0 every item done or skipped, 3 some rejected, failed or in doubt,
4 authentication, 130 interrupted, 2 a plan or journal that cannot be used.`,
		Example: `  invitectl apply plan.jsonl
  invitectl apply plan.jsonl --yes --write-qps 5`,
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
invitation back, and the rest is applied.`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.check(); err != nil {
				return err
			}
			st, err := report.Read(args[0])
			if err != nil {
				return usageError{err}
			}
			f.results = args[0]
			return a.apply(cmd.Context(), st.Header.Plan.Path, f, false)
		},
	}
	f.register(cmd.Flags(), true)
	cmd.Flags().Lookup("results").Hidden = true
	cmd.Flags().Lookup("yes").Hidden = true
	return cmd
}

// resultsPath is the default journal for a plan: NAME.results.jsonl.
func resultsPath(plan string) string {
	return strings.TrimSuffix(plan, ".jsonl") + ".results.jsonl"
}

// apply runs a plan; confirm asks first (apply, run) unless --yes.
func (a *app) apply(ctx context.Context, planPath string, f applyFlags, confirm bool) error {
	plan, sum, err := a.openPlan(planPath, f)
	if err != nil {
		return err
	}
	defer plan.Close()
	if f.results == "" {
		f.results = resultsPath(planPath)
	}
	if confirm && !f.yes {
		if err := a.confirm(plan.Header, planPath); err != nil {
			return err
		}
	}
	j, resume, err := openJournal(f.results, planPath, sum, plan.Header)
	if err != nil {
		return err
	}
	client, err := a.client(ctx, false)
	if err != nil {
		_ = j.Close()
		return err
	}
	_ = j.Append(report.Record{Type: report.TypeRun, At: time.Now().UTC(), Event: "start", PID: os.Getpid()})

	total := plan.Header.Summary.Send + plan.Header.Summary.Cancel + plan.Header.Summary.None
	write := pace.NewLimiter(f.writeQPS)
	var stats executor.Stats
	var meter progress.Meter
	pr := progress.Start(a.progressOut(), a.io.stderrTTY, "applying", 0, func() progress.Status {
		done := int(stats.Finished())
		calls := int(stats.Calls.Load())
		return progress.Status{Done: done, Total: total, Failed: int(stats.Problems()), Rate: meter.Rate(calls, time.Now()), Count: calls,
			Note: fmt.Sprintf("(calls/s; calls %d, retries %d, quota errors %d, write limit %.1f/s)", calls, stats.Retries.Load(), stats.QuotaErrors.Load(), write.Rate())}
	})
	runErr := executor.Apply(ctx, executor.Config{
		Client: client, Journal: j, Resume: resume, Write: write, Read: pace.NewLimiter(f.readQPS),
		MaxWorkers: f.workers, RetryInDoubt: f.retryInDoubt, Logger: a.logger,
	}, executor.PlanItems(plan), &stats)
	pr.Stop()

	event := "end"
	if errors.Is(runErr, executor.ErrInterrupted) {
		event = "interrupted"
	}
	_ = j.Append(report.Record{Type: report.TypeRun, At: time.Now().UTC(), Event: event, PID: os.Getpid(), Counts: &report.RunCounts{
		Done: int(stats.Done.Load()), Skipped: int(stats.Skipped.Load()), Rejected: int(stats.Rejected.Load()),
		Failed: int(stats.Failed.Load()), InDoubt: int(stats.InDoubt.Load()), Calls: int(stats.Calls.Load()),
		Retries: int(stats.Retries.Load()), QuotaErrors: int(stats.QuotaErrors.Load()),
	}})
	if err := j.Close(); err != nil && runErr == nil {
		runErr = err
	}
	results, err := a.writeResults(f.results)
	if err != nil && runErr == nil {
		runErr = err
	}
	switch {
	case errors.Is(runErr, executor.ErrInterrupted):
		fmt.Fprintf(a.io.errOut, "\nInterrupted: calls in flight finished and everything is recorded.\nResume with: invitectl resume %s\n", f.results)
		return context.Canceled
	case runErr != nil:
		return runErr
	case results.NeedAttention > 0: // this run's problems and those earlier runs left
		return partialError{results.NeedAttention}
	}
	return nil
}

// openPlan vets a whole plan, hashes it for the journal and opens it. The
// header's summary is replaced by the recount of the items.
func (a *app) openPlan(path string, f applyFlags) (*planner.FileReader, string, error) {
	_, counted, sum, err := planner.Verify(path)
	if err != nil {
		return nil, "", usageError{err}
	}
	plan, err := planner.OpenFile(path)
	if err != nil {
		return nil, "", usageError{err}
	}
	plan.Header.Summary = counted
	h := plan.Header
	fail := func(err error) (*planner.FileReader, string, error) {
		plan.Close()
		return nil, "", err
	}
	switch {
	case a.opts.customer == "":
		a.opts.customer = h.Customer
	case a.opts.customer != h.Customer:
		return fail(usagef("plan %s is for customer %s, not %s", path, h.Customer, a.opts.customer))
	}
	if h.APIVersion != "" {
		a.opts.apiVersion = h.APIVersion
	}
	age := time.Since(h.CreatedAt)
	switch {
	case f.maxPlanAge > 0 && age > f.maxPlanAge:
		return fail(usagef("plan %s was made %s ago, more than --max-plan-age %s: plan again", path, age.Round(time.Minute), f.maxPlanAge))
	case age > 24*time.Hour:
		fmt.Fprintf(a.io.errOut, "warning: plan %s was made %s ago; invitations may have changed since (plan again, or refuse old plans with --max-plan-age)\n", path, age.Round(time.Hour))
	}
	return plan, sum, nil
}

// confirm shows what the plan will do and asks on a terminal; without one
// it refuses: nobody is emailed without an explicit yes.
func (a *app) confirm(h planner.Header, path string) error {
	if !a.io.stdinTTY {
		return usagef("not applying %s without confirmation: there is no terminal to ask on; pass --yes", path)
	}
	fmt.Fprintf(a.io.errOut, "Plan %s for customer %s: %d invitation email(s) to send, %d invitation(s) to cancel, %d row(s) with nothing to do.\n",
		path, h.Customer, h.Summary.Send, h.Summary.Cancel, h.Summary.None)
	fmt.Fprint(a.io.errOut, "Apply it? Type yes to continue: ")
	line, err := bufio.NewReader(a.io.in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if strings.TrimSpace(strings.ToLower(line)) != "yes" {
		return errors.New("not applied: the answer was not yes")
	}
	return nil
}

// openJournal creates the journal or reopens it to resume; a journal of
// another plan is refused.
func openJournal(path, planPath, planSum string, h planner.Header) (*report.Journal, *report.State, error) {
	if _, err := os.Stat(path); err == nil {
		j, st, err := report.Open(path)
		switch {
		case errors.Is(err, report.ErrLocked):
			return nil, nil, err
		case err != nil:
			return nil, nil, usageError{err} // not a journal, or a corrupt one
		}
		if st.Header.Plan.SHA256 != planSum {
			_ = j.Close()
			return nil, nil, usagef("results %s record another plan (%s, sha256 %.12s…), not %s: pass --results NEW.jsonl to start afresh",
				path, st.Header.Plan.Path, st.Header.Plan.SHA256, planPath)
		}
		return j, st, nil
	}
	// The absolute path lets resume find the plan from any directory.
	abs, err := filepath.Abs(planPath)
	if err != nil {
		return nil, nil, err
	}
	j, err := report.Create(path, report.Header{
		Kind: report.Kind, Version: report.Version, Customer: h.Customer, APIVersion: h.APIVersion, CreatedAt: time.Now().UTC(),
		Plan: report.PlanRef{Path: abs, SHA256: planSum, Items: h.Summary.Send + h.Summary.Cancel + h.Summary.None},
	})
	return j, nil, err
}

// writeResults prints the summary of the whole journal and writes
// RESULTS.csv beside it.
func (a *app) writeResults(journal string) (report.Summary, error) {
	st, err := report.Read(journal)
	if err != nil {
		return report.Summary{}, err
	}
	csvPath := strings.TrimSuffix(journal, ".jsonl") + ".csv"
	if err := report.WriteFileAtomic(csvPath, func(w io.Writer) error { return report.WriteCSV(w, st) }); err != nil {
		return report.Summary{}, err
	}
	sum := report.Summarize(st)
	if err := report.WriteTable(a.io.out, sum); err != nil {
		return sum, err
	}
	fmt.Fprintf(a.io.errOut, "Results: %s (journal), %s (CSV)\n", journal, csvPath)
	return sum, nil
}
