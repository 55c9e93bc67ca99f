package status

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/invitectl/invitectl/pkg/safetext"
	"github.com/invitectl/invitectl/pkg/table"
	"github.com/invitectl/invitectl/pkg/words"
	"github.com/invitectl/invitectl/planner"
	"github.com/invitectl/invitectl/report"
)

// Summary is the funnel: how many addresses are in each state now, with
// their share of all addresses.
type Summary struct {
	Accepted   int `json:"accepted"`
	Declined   int `json:"declined"`
	Invited    int `json:"invited"`
	NotYetSent int `json:"not_yet_sent"`
	Gone       int `json:"gone"`
	Unknown    int `json:"unknown"`
	// Addresses counts every address; Sent those the campaign's send
	// reached (outcome done).
	Addresses int `json:"addresses"`
	Sent      int `json:"sent"`
	// Percent is each count above as a percentage of Addresses, to one
	// decimal, keyed like the counts.
	Percent map[string]float64 `json:"percent"`
	Reads   Reads              `json:"reads"`
	Sources []string           `json:"sources"`
}

// count is the summary's count of a state.
func (s *Summary) count(state string) *int {
	switch state {
	case Accepted:
		return &s.Accepted
	case Declined:
		return &s.Declined
	case Invited:
		return &s.Invited
	case NotYetSent:
		return &s.NotYetSent
	case Gone:
		return &s.Gone
	}
	return &s.Unknown
}

// Summarize counts the funnel; Read must have run.
func (c *Campaign) Summarize() Summary {
	s := Summary{Addresses: len(c.entries), Reads: c.reads, Percent: map[string]float64{}}
	for _, src := range c.sources {
		s.Sources = append(s.Sources, src.name)
	}
	for _, e := range c.entries {
		*s.count(e.state)++
		if e.sent() {
			s.Sent++
		}
	}
	for _, st := range append([]string{"sent"}, States...) {
		n := s.Sent
		if st != "sent" {
			n = *s.count(st)
		}
		s.Percent[st] = percent(n, s.Addresses)
	}
	return s
}

func percent(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return math.Round(1000*float64(n)/float64(of)) / 10
}

// Row is one address as the results show it.
type Row struct {
	Email  string `json:"email"`
	Row    int    `json:"row,omitempty"`
	Action string `json:"action"`
	// Outcome is the campaign's: done, skipped, rejected, failed,
	// in_doubt or pending.
	Outcome string `json:"outcome"`
	Reason  string `json:"reason,omitempty"`
	// State is the state now, one of States.
	State          string          `json:"state"`
	MailsSentCount int64           `json:"mailsSentCount"`
	UpdateTime     time.Time       `json:"updateTime,omitzero"`
	Note           string          `json:"note,omitempty"`
	Results        string          `json:"results"`
	Columns        planner.Columns `json:"columns,omitempty"`
}

func (c *Campaign) row(e *entry, cols planner.Columns) Row {
	return Row{Email: e.email, Row: e.row, Action: e.action, Outcome: e.outcome, Reason: e.reason, State: e.state,
		MailsSentCount: e.mails, UpdateTime: e.updated, Note: e.note, Results: c.sources[e.source].name, Columns: cols}
}

// Each calls fn with every address, wave by wave in plan order (by address
// for the ledger), its columns read from its plan as it streams.
func (c *Campaign) Each(fn func(Row) error) error {
	done := make(map[*entry]bool, len(c.entries))
	for i, src := range c.sources {
		if src.results == nil {
			continue
		}
		err := src.results.Each(func(it report.Item) error {
			e := c.byEmail[it.Email]
			if e == nil || e.source != i || e.action != it.Action || done[e] {
				return nil
			}
			done[e] = true
			return fn(c.row(e, it.Columns))
		})
		if err != nil {
			return err
		}
	}
	for _, e := range c.entries { // the ledger's, and any a plan no longer holds
		if !done[e] {
			if err := fn(c.row(e, nil)); err != nil {
				return err
			}
		}
	}
	return nil
}

// CSVHeader is the status CSV's first line, before the input's columns.
var CSVHeader = []string{"email", "row", "action", "outcome", "reason", "state", "mails_sent_count", "update_time", "note", "results"}

// Rows calls fn with the status as a table: CSVHeader and the input's
// columns, then one row per address. Cells are as they are (see
// report.Results.Rows). fn keeps no slice.
func (c *Campaign) Rows(fn func([]string) error) error {
	if err := fn(append(slices.Clone(CSVHeader), planner.UniqueNames(CSVHeader, c.Columns)...)); err != nil {
		return err
	}
	cells := make([]string, len(CSVHeader)+len(c.Columns))
	return c.Each(func(r Row) error {
		clear(cells)
		cells[0] = r.Email
		if r.Row > 0 {
			cells[1] = strconv.Itoa(r.Row)
		}
		cells[2], cells[3], cells[4], cells[5] = r.Action, r.Outcome, r.Reason, r.State
		cells[6] = strconv.FormatInt(r.MailsSentCount, 10)
		if !r.UpdateTime.IsZero() {
			cells[7] = r.UpdateTime.UTC().Format(time.RFC3339)
		}
		cells[8], cells[9] = r.Note, r.Results
		for i, col := range c.Columns {
			cells[len(CSVHeader)+i] = r.Columns.Get(col)
		}
		return fn(cells)
	})
}

// WriteCSV writes Rows, every cell defused against formulas.
func WriteCSV(w io.Writer, c *Campaign) error {
	return safetext.WriteCSV(w, c.Rows)
}

// WriteJSON writes {"summary": {...}, "items": [...]}, one item per line.
func WriteJSON(w io.Writer, c *Campaign) error {
	return report.WriteDocument(w, c.Summarize(), c.Each)
}

// MaxTableRows bounds the rows the table shows; the CSV has them all.
const MaxTableRows = 1000

// funnelLabels are the funnel's lines, as an administrator reads them.
var funnelLabels = map[string]string{Accepted: "ACCEPTED", Declined: "DECLINED", Invited: "still INVITED",
	NotYetSent: "NOT_YET_SENT", Gone: "gone", Unknown: "unknown"}

// WriteTable writes the funnel and a row per address (the first
// MaxTableRows), fit to width characters (0: 80).
func WriteTable(w io.Writer, c *Campaign, width int) error {
	if width <= 0 {
		width = table.DefaultWidth
	}
	s := c.Summarize()
	r := s.Reads
	how := words.Count(r.Gets, "get call", "get calls")
	if r.Lists > 0 {
		how = words.Count(r.Lists, "list call", "list calls") + " and " + how
	}
	fmt.Fprintf(w, "Status of %s from %s\n", words.Count(s.Addresses, "address", "addresses"), safetext.Terminal(c.Names()))
	fmt.Fprintf(w, "read %s with %s\n\n", r.At.Format(time.RFC3339), how)
	tb := table.Table{Width: width, Indent: "  "}
	tb.Row("sent", strconv.Itoa(s.Sent), fmt.Sprintf("%5.1f%%", s.Percent["sent"]), "the campaign's send reached them")
	for _, st := range States {
		n := *s.count(st)
		if n == 0 && st == Unknown {
			continue
		}
		tb.Row(funnelLabels[st], strconv.Itoa(n), fmt.Sprintf("%5.1f%%", s.Percent[st]), Explain(st))
	}
	if err := tb.Write(w); err != nil {
		return err
	}
	if s.Addresses == 0 {
		return nil
	}
	fmt.Fprintln(w)
	rows := table.Table{Width: width}
	rows.Row("EMAIL", "CAMPAIGN", "NOW", "MAILS", "UPDATED", "DETAIL")
	n := 0
	err := c.Each(func(r Row) error {
		n++
		if n > MaxTableRows {
			return nil
		}
		updated := "-"
		if !r.UpdateTime.IsZero() {
			updated = r.UpdateTime.UTC().Format("2006-01-02")
		}
		var detail []string
		for _, col := range r.Columns {
			detail = append(detail, col.Name+": "+col.Value)
		}
		if r.Note != "" {
			detail = append(detail, r.Note)
		}
		rows.Row(safetext.Cell(r.Email, 40), safetext.Cell(r.Action+" "+r.Outcome, 24), r.State,
			strconv.FormatInt(r.MailsSentCount, 10), updated, safetext.Cell(strings.Join(detail, "; "), 300))
		return nil
	})
	if err != nil {
		return err
	}
	if err := rows.Write(w); err != nil {
		return err
	}
	if n > MaxTableRows {
		fmt.Fprintf(w, "... and %d more: --format csv, or --to-sheet, lists them all\n", n-MaxTableRows)
	}
	return nil
}
