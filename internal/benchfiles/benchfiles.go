// Package benchfiles writes the big plans and results journals that the
// benchmarks of long campaigns (issue 9: resume and report of a million
// items) read, as a campaign stopped part way leaves them.
package benchfiles

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/journal"
	"github.com/invitectl/invitectl/pkg/ledger"
	"github.com/invitectl/invitectl/planner"
)

// Write writes, in dir, plan.jsonl, a plan of n send items for customer
// (every address listed NOT_YET_SENT an hour ago), and plan.results.jsonl,
// a journal in which the first done items are done (an intent and an
// outcome each, with an operation and a detail as the API gives them), and
// returns their paths. When stateDir is not empty it also writes there the
// customer's ledger as that run left it: an intent and an outcome for each
// done item.
func Write(dir, stateDir, customer string, n, done int) (plan, results string, err error) {
	plan = filepath.Join(dir, "plan.jsonl")
	w, err := planner.CreateFile(plan)
	if err != nil {
		return "", "", err
	}
	defer w.Close()
	created := time.Now().Add(-time.Hour).UTC()
	hdr := planner.Header{Kind: planner.Kind, Version: planner.Version, Customer: customer, APIVersion: "v1", CreatedAt: created,
		Policy:  planner.Policy{Action: planner.WantInvite},
		Listed:  map[invitations.State]int{invitations.StateNotYetSent: n},
		Summary: planner.Summary{Reasons: map[string]int{}}}
	upd := created.Add(-30 * 24 * time.Hour)
	for i := range n {
		it := item(i)
		it.Observed = &planner.Observed{State: invitations.StateNotYetSent, UpdateTime: upd}
		hdr.Summary.Add(it)
		if err := w.Emit(it); err != nil {
			return "", "", err
		}
	}
	if _, err := w.Commit(hdr); err != nil {
		return "", "", err
	}
	_, sha, err := planner.Peek(plan)
	if err != nil {
		return "", "", err
	}
	results = filepath.Join(dir, "plan.results.jsonl")
	j, err := journal.Create(results, journal.Header{Customer: customer, APIVersion: "v1",
		LedgerSource: "0123456789abcdef", Plan: journal.PlanRef{Path: plan, SHA256: sha, Items: n}})
	if err != nil {
		return "", "", err
	}
	at := time.Now().Add(-30 * time.Minute).UTC()
	for i := range done {
		it := item(i)
		j.AppendAsync(
			journal.Record{Type: journal.TypeIntent, At: at, Row: it.Row, Email: it.Email, Action: "send", Reason: it.Reason, Attempt: 1},
			journal.Record{Type: journal.TypeOutcome, At: at, Row: it.Row, Email: it.Email, Action: "send", Reason: it.Reason,
				Outcome: journal.OutcomeDone, Attempts: 1, Operation: "operations/" + strconv.Itoa(i), Detail: "state INVITED, 1 mail sent"})
	}
	if err := j.Close(); err != nil {
		return "", "", err
	}
	if stateDir != "" {
		err = writeLedger(stateDir, customer, plan, results, sha, at, done)
	}
	return plan, results, err
}

// writeLedger writes the customer's ledger in its documented format (see
// package ledger) for the first done items, sent at at.
func writeLedger(stateDir, customer, plan, results, sha string, at time.Time, done int) error {
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(ledger.Path(stateDir, customer), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	const src = "0123456789abcdef"
	ms := at.UnixMilli()
	fmt.Fprintf(w, "invitectl-ledger\t%d\t%s\n", ledger.Version, customer)
	fmt.Fprintf(w, "src\t%s\t%d\t%d\tapply\t%s\t%q\t%q\n", src, ms, os.Getpid(), sha, plan, results)
	for i := range done {
		e := item(i).Email
		fmt.Fprintf(w, "i\t%d\t%s\ts\t%s\n", ms, src, e)
		fmt.Fprintf(w, "o\t%d\t%s\ts\t%s\ty\n", ms, src, e)
	}
	if err := w.Flush(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// item is the plan's item i.
func item(i int) planner.Item {
	return planner.Item{Row: i + 2, Email: fmt.Sprintf("person%07d@example.com", i), Action: planner.ActionSend, Reason: planner.ReasonNotYetSent}
}
