package report

import (
	"strings"
	"time"

	"github.com/invitectl/invitectl/pkg/journal"
)

// Journals for the renderings' tests, with times counted from t0.

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func testHeader() journal.Header {
	return journal.Header{
		Plan:       journal.PlanRef{Path: "plan.jsonl", SHA256: strings.Repeat("ab", 32), Items: 4},
		Customer:   "C0123abc",
		APIVersion: "v1",
		CreatedAt:  t0,
	}
}

func intent(email string, row, attempt int, sec float64) journal.Record {
	return journal.Record{Type: journal.TypeIntent, At: at(sec), Row: row, Email: email, Action: "send", Reason: "not_yet_sent", Attempt: attempt}
}

func outcome(email string, row int, outcome string, sec float64) journal.Record {
	return journal.Record{Type: journal.TypeOutcome, At: at(sec), Row: row, Email: email, Action: "send", Reason: "not_yet_sent", Outcome: outcome, Attempts: 1}
}

func runEvent(event string, sec float64) journal.Record {
	return journal.Record{Type: journal.TypeRun, At: at(sec), Event: event, PID: 42}
}

func at(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }
