package planner

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/invitectl/invitectl/pkg/pace"
	"github.com/invitectl/invitectl/pkg/safetext"
	"github.com/invitectl/invitectl/pkg/source"
)

// PreviewRows is how many items of each action the table view shows.
const PreviewRows = 10

// maxNote bounds the note of an item in the table; the plan file has it whole.
const maxNote = 200

// Render prints the plan at path: a table of counts per action and reason
// and the first items of each action, or (format "json") the header and
// every item as one JSON document.
func Render(w io.Writer, path, format string) error {
	r, err := OpenFile(path)
	if err != nil {
		return err
	}
	defer r.Close()
	if format == "json" {
		return renderJSON(w, r)
	}
	return renderTable(w, r)
}

func renderJSON(w io.Writer, r *FileReader) error {
	h, err := json.Marshal(r.Header)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "{\"header\": %s,\n \"items\": [", h)
	for n := 0; ; n++ {
		it, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		b, err := json.Marshal(it)
		if err != nil {
			return err
		}
		if n > 0 {
			fmt.Fprint(w, ",")
		}
		fmt.Fprintf(w, "\n  %s", b)
	}
	fmt.Fprintln(w, "\n]}")
	return nil
}

var actionOrder = []Action{ActionSend, ActionCancel, ActionNone}

// section is a group of items the table view previews.
type section struct {
	title string
	match func(Item) bool
}

var sections = []section{
	{"send", func(it Item) bool { return it.Action == ActionSend }},
	{"cancel", func(it Item) bool { return it.Action == ActionCancel }},
	{"needs attention (invalid rows, failed or refused checks, calls in flight)", func(it Item) bool { return needsAttention(it.Reason) }},
	{"none", func(it Item) bool { return it.Action == ActionNone && !needsAttention(it.Reason) }},
}

func needsAttention(reason string) bool {
	switch reason {
	case ReasonInvalidEmail, ReasonInvalidRow, ReasonCheckFailed, ReasonCheckRefused, ReasonInFlight:
		return true
	}
	return false
}

func renderTable(w io.Writer, r *FileReader) error {
	first := make([][]Item, len(sections))
	total := make([]int, len(sections))
	for {
		it, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		for i, sec := range sections {
			if sec.match(it) {
				total[i]++
				if len(first[i]) < PreviewRows {
					first[i] = append(first[i], it)
				}
				break
			}
		}
	}
	h := r.Header
	fmt.Fprintf(w, "Plan for customer %s (%s), %d rows of %s, made %s\n",
		safetext.Terminal(h.Customer), safetext.Terminal(h.APIVersion), h.Source.Rows,
		safetext.Terminal(h.Source.Path), h.CreatedAt.Format(time.RFC3339))
	if h.Source.Format == source.FormatNoHeader {
		fmt.Fprintln(w, "The input has no header line: every line, the first included, was read as data.")
	}
	fmt.Fprintf(w, "Policy: %s\n\n", describePolicy(h.Policy))
	counts := map[Action]int{ActionSend: h.Summary.Send, ActionCancel: h.Summary.Cancel, ActionNone: h.Summary.None}
	for _, a := range actionOrder {
		fmt.Fprintln(w, strings.TrimRight(fmt.Sprintf("  %-7s %7d  %s", a, counts[a], reasonsOf(h.Summary, a)), " "))
	}
	if h.Summary.CheckFailed > 0 {
		fmt.Fprintf(w, "\n  %d address(es) could not be checked (check_failed): plan again to retry them.\n", h.Summary.CheckFailed)
	}
	if h.Summary.CheckRefused > 0 {
		fmt.Fprintf(w, "\n  %d address(es) were refused by the API on their own (check_refused; other calls succeed): see the API's message on each.\n", h.Summary.CheckRefused)
	}
	if n := h.Summary.Reasons["none/"+ReasonInFlight]; n > 0 {
		fmt.Fprintf(w, "\n  %d address(es) have an invitectl call with no outcome yet (in_flight): resume the journal named on each, then plan again.\n", n)
	}
	if n := h.Summary.Reasons["none/"+ReasonRecentlySent] + h.Summary.Reasons["none/"+ReasonRecentlyCancelled]; n > 0 {
		fmt.Fprintf(w, "\n  %d address(es) were acted on by invitectl in the last %s and the API does not show it yet: not sent again.\n", n, time.Duration(h.LagWindow))
	}
	if n := h.Summary.Reasons["send/"+ReasonNotYetSent]; n > 0 && h.Policy.TrustList {
		fmt.Fprintf(w, "\n  %d send(s) to listed NOT_YET_SENT accounts were not checked with isInvitableUser: a send to one that is\n  no longer invitable is refused and emails no one (--check-listed asks first, one call each).\n", n)
	}
	if h.ListingStopped > 0 {
		fmt.Fprintf(w, "\n  The listing stopped after %d invitations (the tenant is large next to the campaign): the other rows were read one by one.\n", h.ListingStopped)
	}
	if line := quotaLine(h); line != "" {
		fmt.Fprintf(w, "\n  %s\n", line)
	}
	if n := h.Summary.Reasons["send/"+ReasonUnlistedInvitable]; n > 0 {
		fmt.Fprintf(w, "\n  %d send(s) go to accounts the API does not list (unlisted_invitable): it cannot show whether someone else invited them already.\n", n)
	}
	for i, sec := range sections {
		if len(first[i]) == 0 {
			continue
		}
		more := ""
		if total[i] > len(first[i]) {
			more = fmt.Sprintf(" (first %d of %d)", len(first[i]), total[i])
		}
		fmt.Fprintf(w, "\n%s%s:\n", sec.title, more)
		for _, it := range first[i] {
			fmt.Fprintln(w, strings.TrimRight(fmt.Sprintf("  %-8s %-40s %-19s %s", rowLabel(it.Row),
				safetext.Terminal(it.Email), safetext.Terminal(it.Reason), safetext.Cell(itemNote(it), maxNote)), " "))
		}
	}
	return nil
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
		return fmt.Sprintf("%s, %d mail(s), updated %s", it.Observed.State, it.Observed.MailsSentCount, it.Observed.UpdateTime.Format("2006-01-02"))
	}
	return ""
}

func reasonsOf(s Summary, a Action) string {
	type rc struct {
		reason string
		n      int
	}
	var rs []rc
	for k, n := range s.Reasons {
		if act, reason, ok := strings.Cut(k, "/"); ok && Action(act) == a {
			rs = append(rs, rc{reason, n})
		}
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].n > rs[j].n || rs[i].n == rs[j].n && rs[i].reason < rs[j].reason })
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fmt.Sprintf("%s %d", r.reason, r.n)
	}
	return strings.Join(parts, ", ")
}

func describePolicy(p Policy) string {
	parts := []string{string(p.Action)}
	if p.ResendAfter > 0 {
		parts = append(parts, "resend after "+time.Duration(p.ResendAfter).String())
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

// quotaLine says what planning learned of the quota and how long applying
// the plan's sends and cancels takes at it.
func quotaLine(h Header) string {
	calls := h.Summary.Send + h.Summary.Cancel
	if calls == 0 {
		return ""
	}
	p := pace.New(pace.Config{State: h.Pace})
	eta := p.ETA(0, calls).Round(time.Second)
	quota := p.Describe()
	if h.Pace == nil || len(h.Pace.Quotas) == 0 {
		quota = fmt.Sprintf("%d requests per minute (assumed until Google's first 429 says)", pace.AssumedPerMinute)
	}
	line := fmt.Sprintf("Applying: %d call(s) at %s, about %s.", calls, quota, eta)
	if eta > time.Hour {
		line += " It can be interrupted and resumed at any moment."
		if help := p.Help(); help != "" {
			line += " A higher quota: " + help
		}
	}
	return line
}
