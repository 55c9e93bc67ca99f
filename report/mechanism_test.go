package report

import (
	"bytes"
	"encoding/csv"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/invitectl/invitectl/pkg/journal"
	"github.com/invitectl/invitectl/pkg/safetext"
)

// Every text column of the results CSV is defused against formulas, not
// only the address: the API's message and detail, and whatever a journal
// holds in action, outcome and reason. Each reads back as written.
func TestWriteCSVDefusesEveryColumn(t *testing.T) {
	hostile := []string{"=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "'quoted"}
	for _, h := range hostile {
		t.Run(strconv.Quote(h), func(t *testing.T) {
			r := journal.Record{Type: journal.TypeOutcome, At: at(1), Row: 2, Email: h + "@x.org", Action: h, Reason: h, Outcome: h,
				HTTPCode: 400, Message: h, Detail: h, Attempts: 1}
			var buf bytes.Buffer
			if err := WriteCSV(&buf, FromState(stateOf(t, r))); err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(&buf).ReadAll()
			if err != nil || len(rows) != 2 {
				t.Fatalf("%d rows, %v:\n%s", len(rows), err, buf.String())
			}
			head, row := rows[0], rows[1]
			for i, col := range head {
				switch col {
				case "email", "action", "outcome", "reason", "message", "detail":
				default:
					continue
				}
				if row[i] == "" || row[i][0] != '\'' {
					t.Errorf("%s = %q: not defused", col, row[i])
				}
				want := h
				if col == "email" {
					want = h + "@x.org"
				}
				if got, _ := safetext.Unformula(row[i]); got != want {
					t.Errorf("%s = %q reads back as %q, want %q", col, row[i], got, want)
				}
			}
		})
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// A CSV that could not be written is an error, even when every row fitted
// in the CSV writer's buffer and only the final flush failed.
func TestWriteCSVReportsWriteFailure(t *testing.T) {
	st := stateOf(t, outcome("a@x.org", 2, journal.OutcomeDone, 1))
	if err := WriteCSV(failingWriter{}, FromState(st)); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("WriteCSV = %v, want the write error", err)
	}
}
