package report

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/invitectl/invitectl/pkg/journal"
	"github.com/invitectl/invitectl/pkg/safetext"
	"github.com/invitectl/invitectl/pkg/table"
	"github.com/invitectl/invitectl/planner"
)

// MaxAttention bounds the items listed in Summary.Attention; the CSV has
// them all.
const MaxAttention = 20

// Summary is the account of a journal that the table and JSON show.
type Summary struct {
	Customer string          `json:"customer"`
	Plan     journal.PlanRef `json:"plan"`
	// Journal is the journal's path, for the commands the table suggests.
	Journal string `json:"journal,omitempty"`
	// NextFlags are words the suggested commands end with, as a shell
	// reads them (the flags that reach the same API and ledger, such as
	// --sandbox or --state-dir); the table escapes them for the terminal.
	NextFlags string `json:"-"`
	// Items counts the plan items with an outcome; Plan.Items is how many
	// the plan has. Pending counts calls whose outcome is not recorded (a
	// run still going, or killed).
	Items   int `json:"items"`
	Pending int `json:"pending"`
	// ByOutcome counts items by last outcome; ByOutcomeReason by outcome and
	// the plan's reason, as "done/not_yet_sent".
	ByOutcome       map[string]int `json:"byOutcome"`
	ByOutcomeReason map[string]int `json:"byOutcomeReason"`
	// Started is the first run's start, Finished the last record's time.
	Started  time.Time `json:"started,omitzero"`
	Finished time.Time `json:"finished,omitzero"`
	// Elapsed sums the active periods of the runs (each from its start to
	// its last record), not the wall time between runs. In JSON it is
	// "elapsed" (Go syntax) and "elapsedSeconds".
	Elapsed time.Duration `json:"-"`
	// Calls counts the mutating calls made (one intent record each); Rate
	// is Calls per second of Elapsed.
	Calls       int     `json:"calls"`
	Rate        float64 `json:"rate"`
	Retries     int     `json:"retries"`
	QuotaErrors int     `json:"quotaErrors"`
	Runs        int     `json:"runs"`
	// NeedAttention counts the rejected, failed and in-doubt items;
	// Attention lists the first MaxAttention of them in plan order.
	NeedAttention int              `json:"needAttention"`
	Attention     []journal.Record `json:"-"`
	// FailedNotSent counts the failed items that provably sent nothing,
	// which resume tries again.
	FailedNotSent int  `json:"failedNotSent,omitempty"`
	Torn          bool `json:"torn,omitempty"`
}

// MarshalJSON writes Elapsed readably.
func (s Summary) MarshalJSON() ([]byte, error) {
	type plain Summary
	return json.Marshal(struct {
		plain
		Elapsed        string  `json:"elapsed"`
		ElapsedSeconds float64 `json:"elapsedSeconds"`
	}{plain(s), s.Elapsed.String(), s.Elapsed.Seconds()})
}

// Summarize accounts for a journal's state.
func Summarize(st *journal.State) Summary {
	s := Summary{
		Customer:        st.Header.Customer,
		Plan:            st.Header.Plan,
		Items:           st.NumFinal(),
		Pending:         len(st.Pending),
		ByOutcome:       map[string]int{},
		ByOutcomeReason: map[string]int{},
		Calls:           st.Intents,
		Retries:         st.Retries,
		QuotaErrors:     st.QuotaErrorsSeen(),
		Runs:            len(st.Runs),
		Torn:            st.Torn,
	}
	byPair := map[[2]string]int{} // spares a string per item on big journals
	for _, r := range st.Finals() {
		byPair[[2]string{r.Outcome, r.Reason}]++
		if r.Outcome == journal.OutcomeFailed && r.NotSent {
			s.FailedNotSent++
		}
		if journal.NeedsAttention(r.Outcome) {
			s.NeedAttention++
			s.Attention = firstInPlan(s.Attention, r, MaxAttention)
		}
	}
	for p, n := range byPair {
		s.ByOutcome[p[0]] += n
		s.ByOutcomeReason[p[0]+"/"+p[1]] = n
	}
	for i, run := range st.Runs {
		if i == 0 || run.Start.Before(s.Started) {
			s.Started = run.Start
		}
		if run.Last.After(s.Finished) {
			s.Finished = run.Last
		}
		s.Elapsed += run.Active()
	}
	if sec := s.Elapsed.Seconds(); sec > 0 {
		s.Rate = float64(s.Calls) / sec
	}
	return s
}

// firstInPlan inserts r into first, the n records first in plan order so
// far (see planCompare), if it is one of them.
func firstInPlan(first []journal.Record, r journal.Record, n int) []journal.Record {
	i, _ := slices.BinarySearchFunc(first, r, planCompare)
	if i >= n {
		return first
	}
	return slices.Insert(first, i, r)[:min(len(first)+1, n)]
}

// planCompare orders records as the plan does (see planOrder).
func planCompare(a, b journal.Record) int {
	return planOrder(a.Row, b.Row, func() (string, string) { return a.Key(), b.Key() })
}

// planOrder orders two items as the plan does: by input row, pruned items
// (row 0) last, by address; keys gives their keys, asked only for a tie.
func planOrder(rowA, rowB int, keys func() (string, string)) int {
	if (rowA == 0) != (rowB == 0) {
		if rowA == 0 {
			return 1
		}
		return -1
	}
	if c := cmp.Compare(rowA, rowB); c != 0 {
		return c
	}
	ka, kb := keys()
	return strings.Compare(ka, kb)
}

// outcomeRank is the order outcomes are listed in.
func outcomeRank(o string) int {
	switch o {
	case journal.OutcomeDone:
		return 0
	case journal.OutcomeSkipped:
		return 1
	case journal.OutcomeRejected:
		return 2
	case journal.OutcomeFailed:
		return 3
	case journal.OutcomeInDoubt:
		return 4
	}
	return 5
}

// WriteTable writes the summary for a terminal, fit to width characters
// (0: 80): counts per outcome and reason, the runs' pace, the next step for
// each kind of item left to deal with, what the reasons mean, and the items
// that need attention.
func WriteTable(w io.Writer, s Summary, width int) error {
	if width <= 0 {
		width = table.DefaultWidth
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	writeCounts(tw, s)
	writeActivity(tw, s)
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	for _, write := range []func(io.Writer, Summary, int) error{writeNextSteps, writeLegend, writeAttention} {
		if err := write(w, s, width); err != nil {
			return fmt.Errorf("write summary: %w", err)
		}
	}
	return nil
}

// writeNextSteps says what to do about each kind of item a run left: in
// words, wrapped to width, then the command on a line of its own, whole, to
// be copied.
func writeNextSteps(w io.Writer, s Summary, width int) error {
	j := s.Journal
	if j == "" {
		j = "RESULTS"
	}
	j = safetext.Terminal(j)
	resume := func(flags string) string {
		return "invitectl resume " + j + flags + safetext.Terminal(s.NextFlags)
	}
	type step struct {
		label   string
		n       int
		text    string
		command string
	}
	steps := []step{
		{OutcomePending, s.ByOutcome[OutcomePending], "not taken up yet; go on (in batches with --limit N):", resume("")},
		{journal.OutcomeInDoubt, s.ByOutcome[journal.OutcomeInDoubt], "the call may have landed: check with 'invitectl get EMAIL'; then, to send only where nothing landed:", resume(" --retry-in-doubt")},
		{journal.OutcomeFailed, s.FailedNotSent, "nothing was sent: try them again with", resume("")},
		{journal.OutcomeFailed, s.ByOutcome[journal.OutcomeFailed] - s.FailedNotSent, "see the message; 'invitectl get EMAIL' shows the invitation now; plan again to retry", ""},
		{journal.OutcomeRejected, s.ByOutcome[journal.OutcomeRejected], "refused for that address, or its state changed: see the message; to try again:", resume(" --retry-rejected")},
		{planner.ReasonInFlight, s.ByOutcomeReason[journal.OutcomeSkipped+"/"+planner.ReasonInFlight],
			"skipped: another run was calling them (its journal is in each message); when it has ended, resume that journal, which settles them, then plan again for any it left", ""},
	}
	const start = 2 + 9 + 1 + 5 + 2 // "  in_doubt  12345  "
	header := false
	for _, st := range steps {
		if st.n <= 0 {
			continue
		}
		if !header {
			if _, err := fmt.Fprintln(w, "\nNext steps:"); err != nil {
				return err
			}
			header = true
		}
		lines := table.Wrap(st.text, max(width-start, 24))
		fmt.Fprintf(w, "  %-9s %5d  %s\n", st.label, st.n, lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(w, "%*s%s\n", start, "", l)
		}
		if st.command != "" {
			indent := start + 2
			if indent+utf8.RuneCountInString(st.command) > width {
				indent = 4 // a long path: the command stays whole, on less indent
			}
			if _, err := fmt.Fprintf(w, "%*s%s\n", indent, "", st.command); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeLegend explains the reasons the journal shows.
func writeLegend(w io.Writer, s Summary, width int) error {
	used := map[string]bool{}
	for k := range s.ByOutcomeReason {
		_, reason, _ := strings.Cut(k, "/")
		used[reason] = true
	}
	tb := table.Table{Width: width, Indent: "  "}
	for _, r := range planner.Reasons {
		if used[r.Code] {
			tb.Row(r.Code, r.Text)
		}
	}
	if tb.Len() == 0 {
		return nil
	}
	if _, err := fmt.Fprintln(w, "\nReasons:"); err != nil {
		return err
	}
	return tb.Write(w)
}

func writeCounts(w io.Writer, s Summary) {
	if s.Plan.Path != "" {
		fmt.Fprintf(w, "Plan\t%s (%d items, customer %s)\n", safetext.Cell(s.Plan.Path, 200), s.Plan.Items, safetext.Cell(s.Customer, 40))
	}
	fmt.Fprintf(w, "Items with an outcome\t%d\n", s.Items)
	if missing := s.Plan.Items - s.Items; missing > 0 {
		fmt.Fprintf(w, "Pending (no outcome yet)\t%d (interrupted, left by --limit, or still going)\n", missing)
	}
	if s.Pending > 0 {
		fmt.Fprintf(w, "Calls not yet answered\t%d (resume reconciles them)\n", s.Pending)
	}
	if s.Torn {
		fmt.Fprintf(w, "Torn last line\tignored (a run was cut off mid-write)\n")
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "OUTCOME\tREASON\tITEMS\n")
	keys := make([]string, 0, len(s.ByOutcomeReason))
	for k := range s.ByOutcomeReason {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		oa, _, _ := strings.Cut(a, "/")
		ob, _, _ := strings.Cut(b, "/")
		return cmp.Or(cmp.Compare(outcomeRank(oa), outcomeRank(ob)), strings.Compare(a, b))
	})
	for _, k := range keys {
		o, r, _ := strings.Cut(k, "/")
		fmt.Fprintf(w, "%s\t%s\t%d\n", safetext.Cell(o, 40), safetext.Cell(r, 40), s.ByOutcomeReason[k])
	}
	fmt.Fprintf(w, "total\t\t%d\n\n", s.Items)
}

func writeActivity(w io.Writer, s Summary) {
	if s.Runs > 0 {
		fmt.Fprintf(w, "Runs\t%d, active %s (%s to %s)\n", s.Runs, s.Elapsed.Round(time.Millisecond),
			s.Started.Format(time.RFC3339), s.Finished.Format(time.RFC3339))
	}
	fmt.Fprintf(w, "Mutating calls\t%d (%.1f/s)\n", s.Calls, s.Rate)
	fmt.Fprintf(w, "Retries\t%d\n", s.Retries)
	fmt.Fprintf(w, "Quota errors\t%d\n", s.QuotaErrors)
}

func writeAttention(w io.Writer, s Summary, width int) error {
	if s.NeedAttention == 0 {
		return nil
	}
	fmt.Fprintf(w, "\nNeed attention: %d (rejected %d, failed %d, in doubt %d)\n", s.NeedAttention,
		s.ByOutcome[journal.OutcomeRejected], s.ByOutcome[journal.OutcomeFailed], s.ByOutcome[journal.OutcomeInDoubt])
	tb := table.Table{Width: width}
	tb.Row("ROW", "EMAIL", "ACTION", "OUTCOME", "HTTP", "MESSAGE")
	for _, r := range s.Attention {
		row, code := "-", "-"
		if r.Row > 0 {
			row = fmt.Sprint(r.Row)
		}
		if r.HTTPCode > 0 {
			code = fmt.Sprint(r.HTTPCode)
		}
		msg := r.Message
		if r.Detail != "" && msg != "" {
			msg += "; " + r.Detail
		} else if msg == "" {
			msg = r.Detail
		}
		tb.Row(row, safetext.Cell(r.Email, 40), safetext.Cell(r.Action, 20), safetext.Cell(r.Outcome, 20), code, safetext.Cell(msg, 300))
	}
	if err := tb.Write(w); err != nil {
		return err
	}
	if more := s.NeedAttention - len(s.Attention); more > 0 {
		fmt.Fprintf(w, "... and %d more: see the CSV report\n", more)
	}
	return nil
}
