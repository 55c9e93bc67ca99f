// Package report renders a results journal (package journal) with its plan:
// the terminal summary, the CSV and the JSON, one item per plan item.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/invitectl/invitectl/pkg/journal"
	"github.com/invitectl/invitectl/pkg/safetext"
	"github.com/invitectl/invitectl/planner"
)

// Item is one plan item's last outcome as the CSV and the JSON show it.
type Item struct {
	Row        int       `json:"row,omitempty"` // 0 for pruned invitations
	Email      string    `json:"email"`
	Action     string    `json:"action"`
	Outcome    string    `json:"outcome"`
	Reason     string    `json:"reason"`
	HTTPCode   int       `json:"httpCode,omitempty"`
	Message    string    `json:"message,omitempty"`
	Detail     string    `json:"detail,omitempty"`
	Operation  string    `json:"operation,omitempty"`
	Attempts   int       `json:"attempts"`
	FinishedAt time.Time `json:"finishedAt,omitzero"`
	// Explanation is the reason in plain words (planner.Explain).
	Explanation string `json:"explanation,omitempty"`
	// Columns are the input row's other cells, from the plan.
	Columns planner.Columns `json:"columns,omitempty"`
}

func itemOf(r journal.Record) Item {
	return Item{
		Row: r.Row, Email: r.Email, Action: r.Action, Outcome: r.Outcome, Reason: r.Reason,
		HTTPCode: r.HTTPCode, Message: r.Message, Detail: r.Detail, Operation: r.Operation,
		Attempts: r.Attempts, FinishedAt: r.At,
	}
}

// Items calls fn with every item's last outcome in plan order: by input row,
// pruned invitations last.
func Items(st *journal.State, fn func(Item) error) error {
	// Sorted by reference: records are big, and a journal may hold a
	// million.
	type ref struct {
		row int
		key string
	}
	refs := make([]ref, 0, st.NumFinal())
	for k, r := range st.Finals() {
		refs = append(refs, ref{r.Row, k})
	}
	slices.SortFunc(refs, func(a, b ref) int {
		return planOrder(a.row, b.row, func() (string, string) { return a.key, b.key })
	})
	for _, x := range refs {
		r, _ := st.Final(x.key)
		if err := fn(itemOf(r)); err != nil {
			return err
		}
	}
	return nil
}

// CSVHeader is the results CSV's first line, before the input's other
// columns.
var CSVHeader = []string{"row", "email", "action", "outcome", "reason", "http_code",
	"message", "detail", "attempts", "finished_at", "explanation"}

// Rows calls fn with the results as a table: CSVHeader and the input's
// other columns (renamed where they would repeat one of ours), then one row
// per item (see Results.Each). The cells are as they are: WriteCSV defuses
// them, a spreadsheet written RAW needs no defusing. fn may keep no slice.
func (r *Results) Rows(fn func([]string) error) error {
	if err := fn(append(slices.Clone(CSVHeader), planner.UniqueNames(CSVHeader, r.Columns())...)); err != nil {
		return err
	}
	cells := make([]string, len(CSVHeader)+len(r.Columns()))
	return r.Each(func(it Item) error {
		cells[0] = itoa(it.Row)
		cells[1] = it.Email
		cells[2] = it.Action
		cells[3] = it.Outcome
		cells[4] = it.Reason
		cells[5] = itoa(it.HTTPCode)
		cells[6] = it.Message
		cells[7] = it.Detail
		cells[8] = strconv.Itoa(it.Attempts)
		cells[9] = ""
		if !it.FinishedAt.IsZero() {
			cells[9] = it.FinishedAt.UTC().Format(time.RFC3339)
		}
		cells[10] = planner.Explain(it.Reason)
		for i, c := range r.Columns() {
			cells[len(CSVHeader)+i] = it.Columns.Get(c)
		}
		return fn(cells)
	})
}

// WriteCSV writes Rows: with the plan, one row per plan item (pending ones
// included); without it, one per item the journal records (one per
// address, except that repeated and invalid input rows keep their own). Every cell is
// defused against formula injection (safetext.Formula), reversibly: the CSV
// reads back as invitectl's input.
func WriteCSV(w io.Writer, r *Results) error {
	return safetext.WriteCSV(w, r.Rows)
}

// itoa writes zero as an empty cell.
func itoa(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// WriteJSON writes {"summary": ..., "items": [...]}, the items as
// Results.Each gives them, with their explanation (see WriteDocument).
func WriteJSON(w io.Writer, r *Results) error {
	return WriteDocument(w, r.Summarize(), func(fn func(Item) error) error {
		return r.Each(func(it Item) error {
			it.Explanation = planner.Explain(it.Reason)
			return fn(it)
		})
	})
}

// WriteDocument writes {"summary": summary, "items": [...]}, the items
// each gives one per line, streaming them rather than building the
// document (a plan may have a million items).
func WriteDocument[T any](w io.Writer, summary any, each func(func(T) error) error) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if _, err := io.WriteString(w, `{"summary":`); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	if err := enc.Encode(summary); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	sep := `,"items":[` + "\n"
	err := each(func(it T) error {
		if _, err := io.WriteString(w, sep); err != nil {
			return err
		}
		sep = ","
		return enc.Encode(it)
	})
	if err == nil && sep != "," {
		_, err = io.WriteString(w, sep) // no items
	}
	if err == nil {
		_, err = io.WriteString(w, "]}\n")
	}
	if err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}
