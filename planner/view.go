package planner

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/invitectl/invitectl/pkg/duration"
	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/pace"
	"github.com/invitectl/invitectl/pkg/safetext"
	"github.com/invitectl/invitectl/pkg/source"
	"github.com/invitectl/invitectl/pkg/table"
	"github.com/invitectl/invitectl/pkg/words"
)

// PreviewRows is how many items of each section the table view shows.
const PreviewRows = 10

// maxNote bounds the note of an item in the table; the plan file has it whole.
const maxNote = 200

// maxEmail bounds an address in the table, so that the columns fit.
const maxEmail = 40

// Formats Render writes.
const (
	FormatTable = "table"
	FormatJSON  = "json"
	FormatCSV   = "csv"
)

// Render prints the plan at path: a table of counts per section and
// reason, what the reasons mean and the first items of each section, fit
// to width characters (0: 80); or (format "json") the header and every item
// as one JSON document; or (format "csv") one row per item, every cell
// defused against formulas (safetext).
func Render(w io.Writer, path, format string, width int) error {
	r, err := OpenFile(path)
	if err != nil {
		return err
	}
	defer r.Close()
	switch format {
	case FormatJSON:
		return renderJSON(w, r)
	case FormatCSV:
		return renderCSV(w, r)
	}
	return renderTable(w, r, width)
}

func renderJSON(w io.Writer, r *FileReader) error {
	h, err := json.Marshal(r.Header)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "{\"header\": %s,\n \"items\": [", h)
	sep := ""
	err = r.Each(func(it Item) error {
		b, err := json.Marshal(it)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s\n  %s", sep, b)
		sep = ","
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "\n]}")
	return nil
}

// CSVHeader is the first line of the plan as CSV, before the input's
// other columns.
var CSVHeader = []string{"row", "email", "action", "reason", "explanation", "state", "mails_sent_count", "update_time", "invitable", "detail"}

func renderCSV(w io.Writer, r *FileReader) error {
	cw := safetext.NewWriter(w)
	cols := r.Header.Columns
	if err := cw.Write(append(slices.Clone(CSVHeader), UniqueNames(CSVHeader, cols)...)); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	cells := make([]string, len(CSVHeader)+len(cols))
	err := r.Each(func(it Item) error {
		clear(cells)
		if it.Row > 0 {
			cells[0] = strconv.Itoa(it.Row)
		}
		cells[1], cells[2], cells[3], cells[4] = it.Email, string(it.Action), it.Reason, Explain(it.Reason)
		if o := it.Observed; o != nil {
			cells[5], cells[6], cells[7] = string(o.State), strconv.FormatInt(o.MailsSentCount, 10), o.UpdateTime.UTC().Format(time.RFC3339)
		}
		if it.Invitable != nil {
			cells[8] = strconv.FormatBool(*it.Invitable)
		}
		it.Observed = nil // in its own columns already
		cells[9] = itemNote(it)
		for i, c := range cols {
			cells[len(CSVHeader)+i] = it.Columns.Get(c)
		}
		return cw.Write(cells)
	})
	if ferr := cw.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// UniqueNames renames the input's columns that would repeat one of ours
// ("input outcome" for an input column named "outcome"), so that a CSV's
// header names every column once. Names are compared without case.
func UniqueNames(ours, theirs []string) []string {
	taken := map[string]bool{}
	for _, n := range ours {
		taken[strings.ToLower(n)] = true
	}
	out := make([]string, len(theirs))
	for i, n := range theirs {
		for taken[strings.ToLower(n)] {
			n = "input " + n
		}
		taken[strings.ToLower(n)] = true
		out[i] = n
	}
	return out
}

// section is a group of items the table view counts and previews; every
// item belongs to the first section that matches it, so that the counts
// add up to the lists under them.
type section struct {
	label string // in the counts
	title string // above the list
	match func(Item) bool
}

var sections = []section{
	{"send", "send", func(it Item) bool { return it.Action == ActionSend }},
	{"cancel", "cancel", func(it Item) bool { return it.Action == ActionCancel }},
	{"attention", "needs attention (invalid rows, failed or refused checks, calls in flight)", func(it Item) bool { return needsAttention(it.Reason) }},
	{"none", "none", func(it Item) bool { return true }},
}

func needsAttention(reason string) bool {
	switch reason {
	case ReasonInvalidEmail, ReasonInvalidRow, ReasonCheckFailed, ReasonCheckRefused, ReasonInFlight:
		return true
	}
	return false
}

// Pruning above either limit needs the administrator to confirm the count:
// a prune cancels what the input does not name, so a short or wrong input
// cancels almost everything.
const (
	PruneMaxShare = 0.20
	PruneMaxCount = 50
)

// PruneAlarm counts the plan's pruned cancels (cancel/not_in_input) against
// the customer's sent invitations as listed when planning, and returns the
// count and, when it is above PruneMaxShare of them or above PruneMaxCount,
// one loud line saying so (else "").
func PruneAlarm(h Header, s Summary) (int, string) {
	n := s.Reasons[string(ActionCancel)+"/"+ReasonNotInInput]
	sent := h.Listed[invitations.StateInvited]
	if n == 0 || (n <= PruneMaxCount && float64(n) <= PruneMaxShare*float64(sent)) {
		return n, ""
	}
	share := ""
	if sent > 0 {
		share = fmt.Sprintf(" (%.0f%%)", 100*float64(n)/float64(sent))
	}
	return n, fmt.Sprintf("!! --prune cancels %d of the customer's %s%s, every one the input does not name: apply asks you to type %d (or pass --yes-prune)",
		n, words.Count(sent, "sent invitation", "sent invitations"), share, n)
}

func renderTable(w io.Writer, r *FileReader, width int) error {
	if width <= 0 {
		width = table.DefaultWidth
	}
	first := make([][]Item, len(sections))
	total := make([]int, len(sections))
	reasons := make([]map[string]int, len(sections))
	var sum Summary
	err := r.Each(func(it Item) error {
		sum.Add(it)
		for i, sec := range sections {
			if sec.match(it) {
				total[i]++
				if reasons[i] == nil {
					reasons[i] = map[string]int{}
				}
				reasons[i][it.Reason]++
				if len(first[i]) < PreviewRows {
					first[i] = append(first[i], it)
				}
				break
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	h := r.Header
	say := func(format string, args ...any) {
		for _, l := range table.Wrap(fmt.Sprintf(format, args...), width) {
			fmt.Fprintln(w, l)
		}
	}
	// The first line names the input, which may be longer than a line:
	// it is kept whole, to be found and copied.
	fmt.Fprintf(w, "Plan for customer %s (%s), %s of %s, made %s\n",
		safetext.Terminal(h.Customer), safetext.Terminal(h.APIVersion), words.Count(h.Source.Rows, "row", "rows"),
		safetext.Terminal(h.Source.Path), h.CreatedAt.Format(time.RFC3339))
	if h.Source.Format == source.FormatNoHeader {
		say("The input has no header line: every line, the first included, was read as data.")
	}
	say("Policy: %s", describePolicy(h.Policy))
	if _, alarm := PruneAlarm(h, sum); alarm != "" {
		fmt.Fprintln(w)
		say("%s", alarm)
	}
	fmt.Fprintln(w)
	const countsAt = 2 + 9 + 1 + 7 + 2 // "  attention 1234567  "
	for i, sec := range sections {
		if total[i] == 0 && sec.label == "attention" {
			continue
		}
		lines := table.Wrap(reasonCounts(reasons[i]), max(width-countsAt, 20))
		fmt.Fprintln(w, strings.TrimRight(fmt.Sprintf("  %-9s %7d  %s", sec.label, total[i], lines[0]), " "))
		for _, l := range lines[1:] {
			fmt.Fprintln(w, strings.Repeat(" ", countsAt)+l)
		}
	}
	note := func(format string, args ...any) {
		fmt.Fprintln(w)
		for _, l := range table.Wrap(fmt.Sprintf(format, args...), width-2) {
			fmt.Fprintln(w, "  "+l)
		}
	}
	if sum.CheckFailed > 0 {
		note("%s not be checked (check_failed): plan again to retry them.", words.Count(sum.CheckFailed, "address could", "addresses could"))
	}
	if sum.CheckRefused > 0 {
		note("%s refused by the API on their own (check_refused; other calls succeed): see the API's message on each.", words.Count(sum.CheckRefused, "address was", "addresses were"))
	}
	if n := sum.Reasons["none/"+ReasonInFlight]; n > 0 {
		note("%s an invitectl call with no outcome yet (in_flight): resume the journal named on each, then plan again.", words.Count(n, "address has", "addresses have"))
	}
	if n := sum.Reasons["send/"+ReasonNotYetSent]; n > 0 && h.Policy.TrustList {
		note("%s to listed NOT_YET_SENT accounts that isInvitableUser did not check: a send to one that is no longer invitable is refused and emails no one (--check-listed asks first, one call each).", words.Count(n, "send goes", "sends go"))
	}
	if h.ListingStopped > 0 {
		note("The listing stopped after %d invitations (the tenant is large next to the campaign): the other rows were read one by one.", h.ListingStopped)
	}
	if line := QuotaLine(h.Pace, sum.Send+sum.Cancel); line != "" {
		note("%s", line)
	}
	if n := sum.Reasons["none/"+ReasonRecentlySent] + sum.Reasons["none/"+ReasonRecentlyCancelled]; n > 0 {
		note("%s acted on by invitectl in the last %s (--lag-window): not sent again before that window passes, since the API may not show the email yet.", words.Count(n, "address was", "addresses were"), duration.Format(time.Duration(h.LagWindow)))
	}
	if n := sum.Reasons["send/"+ReasonUnlistedInvitable]; n > 0 {
		note("%s to accounts the API does not list (unlisted_invitable): it cannot show whether someone else invited them already.", words.Count(n, "send goes", "sends go"))
	}
	writeLegend(w, sum, width)
	for i, sec := range sections {
		if len(first[i]) == 0 {
			continue
		}
		more := ""
		if total[i] > len(first[i]) {
			more = fmt.Sprintf(" (first %d of %d)", len(first[i]), total[i])
		}
		fmt.Fprintln(w)
		say("%s%s:", sec.title, more)
		tb := table.Table{Width: width, Indent: "  "}
		// The row, the reason and the spaces between take about 34
		// columns; the address gets what a narrow terminal leaves.
		email := min(maxEmail, max(width-34, 16))
		for _, it := range first[i] {
			tb.Row(rowLabel(it.Row), safetext.Cell(it.Email, email), safetext.Terminal(it.Reason), safetext.Cell(itemNote(it), maxNote))
		}
		if err := tb.Write(w); err != nil {
			return err
		}
	}
	return nil
}

// writeLegend explains the reasons the plan gives, in Reasons' order.
func writeLegend(w io.Writer, s Summary, width int) {
	used := map[string]bool{}
	for k := range s.Reasons {
		_, reason, _ := strings.Cut(k, "/")
		used[reason] = true
	}
	tb := table.Table{Width: width, Indent: "  "}
	for _, r := range Reasons {
		if used[r.Code] {
			tb.Row(r.Code, r.Text)
		}
	}
	if tb.Len() == 0 {
		return
	}
	fmt.Fprintln(w, "\nReasons:")
	_ = tb.Write(w)
}

func rowLabel(row int) string {
	if row == 0 {
		return "-"
	}
	return fmt.Sprintf("row %d", row)
}

func itemNote(it Item) string {
	switch {
	case it.Error != "":
		return it.Error
	case it.Detail != "":
		return it.Detail
	case it.FirstRow > 0:
		return fmt.Sprintf("same address as row %d", it.FirstRow)
	case it.Observed != nil:
		return fmt.Sprintf("%s, %s, updated %s", it.Observed.State, words.Count(int(it.Observed.MailsSentCount), "mail", "mails"), it.Observed.UpdateTime.Format("2006-01-02"))
	}
	return ""
}

// reasonCounts lists reasons by count, most first.
func reasonCounts(m map[string]int) string {
	type rc struct {
		reason string
		n      int
	}
	var rs []rc
	for r, n := range m {
		rs = append(rs, rc{r, n})
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].n > rs[j].n || rs[i].n == rs[j].n && rs[i].reason < rs[j].reason })
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fmt.Sprintf("%s %d", safetext.Terminal(r.reason), r.n)
	}
	return strings.Join(parts, ", ")
}

func describePolicy(p Policy) string {
	parts := []string{string(p.Action)}
	if p.ResendAfter > 0 {
		parts = append(parts, "resend after "+duration.Format(time.Duration(p.ResendAfter)))
	}
	if p.MaxMails > 0 {
		parts = append(parts, "at most "+words.Count(int(p.MaxMails), "email", "emails")+" per address")
	}
	if p.ReinviteDeclined {
		parts = append(parts, "re-invite declined")
	}
	if p.Prune {
		parts = append(parts, "prune invitations not in the input")
	}
	if p.TrustList {
		parts = append(parts, "listed NOT_YET_SENT accounts not checked (their send decides; --check-listed checks)")
	}
	return strings.Join(parts, "; ")
}

// QuotaLine says what was learned of the quota (by planning, or by the
// latest run) and how long calls sends and cancels take at it, loudly past
// an hour, with Google's link to ask for more; "" when there is nothing to
// apply.
func QuotaLine(learned *pace.State, calls int) string {
	if calls == 0 {
		return ""
	}
	p := pace.New(pace.Config{State: learned})
	eta := p.ETA(0, calls).Round(time.Second)
	quota := p.Describe()
	if learned == nil || len(learned.Quotas) == 0 {
		quota = fmt.Sprintf("%d requests per minute (assumed until Google's first 429 says)", pace.AssumedPerMinute)
	}
	line := fmt.Sprintf("Applying: %s at %s, about %s.", words.Count(calls, "call", "calls"), quota, duration.Format(eta))
	if eta > time.Hour {
		line = "!! This campaign takes a while. " + line + " It can be interrupted and resumed at any moment."
		if help := p.Help(); help != "" {
			line += " A higher quota: " + help
		}
	}
	return line
}
