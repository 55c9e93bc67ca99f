package planner

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func sampleHeader() Header {
	return Header{Kind: Kind, Version: Version, Customer: "C01", APIVersion: "v1", CreatedAt: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC),
		Source: Source{Path: "c.csv", SHA256: "ab", Rows: 2}, Policy: Policy{Action: WantInvite, ResendAfter: Duration(time.Hour)},
		Summary: Summary{Send: 1, None: 1, Reasons: map[string]int{"send/not_yet_sent": 1, "none/accepted": 1}}}
}

func TestFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "plan.jsonl")
	w, err := CreateFile(path)
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	items := []Item{
		{Row: 2, Email: "a@example.com", Action: ActionSend, Reason: ReasonNotYetSent, Invitable: &yes,
			Observed: &Observed{State: "NOT_YET_SENT", UpdateTime: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{Row: 3, Email: "b@example.com", Action: ActionNone, Reason: ReasonAccepted},
	}
	for _, it := range items {
		if err := w.Emit(it); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("the plan exists before Commit")
	}
	got, err := w.Commit(sampleHeader())
	if err != nil || got != path {
		t.Fatalf("Commit = %q, %v", got, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("plan mode %v, %v", fi.Mode(), err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
	raw, _ := os.ReadFile(path)
	first, _, _ := strings.Cut(string(raw), "\n")
	if !strings.HasPrefix(first, `{"kind":"invitectl/plan","version":1,"customer":"C01"`) || !strings.Contains(first, `"resendAfter":"1h0m0s"`) {
		t.Fatalf("header line %s", first)
	}
	if !strings.Contains(string(raw), `"observed":null,"invitable":null`) {
		t.Fatalf("unobserved item must write nulls: %s", raw)
	}
	r, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Header.Policy.ResendAfter != Duration(time.Hour) || r.Header.Summary.Send != 1 {
		t.Fatalf("header %+v", r.Header)
	}
	for i := range items {
		it, err := r.Next()
		if err != nil || it.Email != items[i].Email || it.Action != items[i].Action || (it.Invitable == nil) != (items[i].Invitable == nil) {
			t.Fatalf("item %d = %+v, %v", i, it, err)
		}
	}
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last item: %v", err)
	}
}

func TestFileAbortLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	w, err := CreateFile(filepath.Join(dir, "plan.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Emit(Item{Row: 2, Email: "a@example.com", Action: ActionSend, Reason: ReasonNotYetSent})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("abandoned plan left %v", entries)
	}
}

func TestFileDryRunIsTemporary(t *testing.T) {
	w, err := CreateFile("")
	if err != nil {
		t.Fatal(err)
	}
	p, err := w.Commit(sampleHeader())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("dry-run plan unreadable before Close: %v", err)
	}
	_ = w.Close()
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("dry-run plan %s survives Close", p)
	}
}

func TestOpenFileRefuses(t *testing.T) {
	cases := map[string]struct{ content, want string }{
		"empty":        {"", "empty file"},
		"other kind":   {`{"kind":"invitectl/results","version":1}` + "\n", "not an invitectl plan"},
		"csv":          {"email\na@example.com\n", "not an invitectl plan"},
		"version":      {`{"kind":"invitectl/plan","version":2}` + "\n", "plan version 2"},
		"header field": {`{"kind":"invitectl/plan","version":1,"customer":7}` + "\n", "line 1: corrupt header"},
	}
	for name, tc := range cases {
		path := filepath.Join(t.TempDir(), "p.jsonl")
		if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := OpenFile(path)
		var pe *PlanError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v, want a PlanError naming the file and %q", name, err, tc.want)
		}
	}
	if _, err := OpenFile(filepath.Join(t.TempDir(), "missing.jsonl")); err == nil {
		t.Error("a missing plan opened")
	}
}

func TestNextRefusesCorruptItems(t *testing.T) {
	cases := map[string]string{
		"json":    `{"row":2,"email":`,
		"action":  `{"row":2,"email":"a@example.com","action":"delete","reason":"x","observed":null,"invitable":null}`,
		"email":   `{"row":2,"email":"","action":"send","reason":"x","observed":null,"invitable":null}`,
		"reason":  `{"row":2,"email":"a@example.com","action":"none","observed":null,"invitable":null}`,
		"unknown": `{"row":2,"email":"a@example.com","action":"none","reason":"x","colour":"red"}`,
	}
	for name, line := range cases {
		var b bytes.Buffer
		b.WriteString(`{"kind":"invitectl/plan","version":1}` + "\n")
		b.WriteString(`{"row":1,"email":"ok@example.com","action":"none","reason":"accepted","observed":null,"invitable":null}` + "\n")
		b.WriteString(line + "\n")
		path := filepath.Join(t.TempDir(), "p.jsonl")
		_ = os.WriteFile(path, b.Bytes(), 0o600)
		r, err := OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Next(); err != nil {
			t.Fatalf("%s: first item: %v", name, err)
		}
		_, err = r.Next()
		if err == nil || !strings.Contains(err.Error(), "line 3") {
			t.Errorf("%s: %v, want an error at line 3", name, err)
		}
		r.Close()
	}
}

func TestLoad(t *testing.T) {
	write := func(lines ...string) string {
		path := filepath.Join(t.TempDir(), "p.jsonl")
		_ = os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
		return path
	}
	hdr := `{"kind":"invitectl/plan","version":1,"customer":"C01","summary":{"send":9,"cancel":0,"none":0,"invalid":0,"checkFailed":0,"reasons":{}}}`
	send := func(row int, email string) string {
		return fmt.Sprintf(`{"row":%d,"email":%q,"action":"send","reason":"not_yet_sent","observed":null,"invitable":true}`, row, email)
	}
	good := write(hdr, send(2, "a@example.com"), `{"row":3,"email":"a@example.com","action":"none","reason":"duplicate","observed":null,"invitable":null,"firstRow":2}`)
	p, err := Load(good)
	if err != nil || p.Summary.Send != 1 || p.Summary.None != 1 || p.Len() != 2 {
		t.Fatalf("Load = %+v, %v; want the recount 1 send, 1 none", p, err)
	}
	hash := p.SHA256
	raw, _ := os.ReadFile(good)
	if want := fmt.Sprintf("%x", sha256.Sum256(raw)); hash != want {
		t.Fatalf("hash %s, want %s", hash, want)
	}
	_, err = Load(write(hdr, send(2, "a@example.com"), send(3, "a@example.com")))
	if err == nil || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "second send") {
		t.Fatalf("two sends to one address: %v", err)
	}
	_, err = Load(write(hdr, send(2, "a@example.com"), send(3, "A@example.com")))
	if err == nil || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "normal form") {
		t.Fatalf("a case variant: %v", err)
	}
	_, err = Load(write(hdr, send(2, "a@example.com"), `{"row":3,`))
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("corrupt last line: %v", err)
	}
	for _, row := range []int{-1, 1 << 31} {
		_, err = Load(write(hdr, send(2, "a@example.com"), send(row, "b@example.com")))
		if err == nil || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "out of range") {
			t.Fatalf("row %d: %v", row, err)
		}
	}
}

// Items keep their reasons and states as codes, one per distinct value:
// each comes back as it was written, and a plan with more distinct values
// than a code holds is refused at the line that overflows.
func TestLoadKeepsReasonsAndStates(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"kind":"invitectl/plan","version":1,"customer":"C01"}` + "\n")
	const distinct = 1<<16 + 1 // codes 0 to 65535, then one too many
	for i := range distinct / 2 {
		fmt.Fprintf(&b, `{"row":%d,"email":"u%d@example.com","action":"none","reason":"reason %d","observed":{"state":"STATE %d","mailsSentCount":%d,"updateTime":"2026-11-24T12:00:00.5Z"},"invitable":null}`+"\n", i+2, i, i, i, i)
	}
	path := filepath.Join(t.TempDir(), "p.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 1, distinct/2 - 1} {
		it := p.Item(i)
		o := it.Observed
		if it.Reason != fmt.Sprintf("reason %d", i) || o == nil || string(o.State) != fmt.Sprintf("STATE %d", i) || o.MailsSentCount != int64(i) ||
			!o.UpdateTime.Equal(time.Date(2026, 11, 24, 12, 0, 0, 5e8, time.UTC)) || it.Row != i+2 {
			t.Fatalf("item %d: %+v, observed %+v", i, it, o)
		}
	}
	if p.Summary.Reasons[fmt.Sprintf("none/reason %d", distinct/2-1)] != 1 {
		t.Fatalf("summary %v", p.Summary.Reasons)
	}
	fmt.Fprintf(&b, `{"row":1,"email":"last@example.com","action":"none","reason":"one too many","observed":null,"invitable":null}`+"\n")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(path)
	var pe *PlanError
	if !errors.As(err, &pe) || pe.Line != distinct/2+2 || !strings.Contains(pe.Msg, "distinct reasons and states") {
		t.Fatalf("Load = %v; want a PlanError at line %d", err, distinct/2+2)
	}
}

// One address four times, differing only by surrounding white space (a
// space, a tab, a no-break space): the API port would trim them all to one
// address, so the plan is refused at the first variant, by line.
func TestLoadRefusesUnnormalisedAddresses(t *testing.T) {
	_, err := Load(filepath.Join("testdata", "plan-whitespace-variants.jsonl"))
	var pe *PlanError
	if !errors.As(err, &pe) || pe.Line != 3 || !strings.Contains(pe.Msg, "normal form") {
		t.Fatalf("Load = %v; want a PlanError at line 3 about the normal form", err)
	}
}

// A plan writer leaves no temporary file behind: not after Commit, not
// after an error, not for a dry run; and the next plan of the same file
// removes those a killed writer left (they hold the whole address list).
func TestPlanWriterLeavesNoTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "plan.jsonl")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	killed := filepath.Join(dir, fmt.Sprintf(".plan.jsonl.tmp-%d-42", cmd.Process.Pid))
	if err := os.WriteFile(killed, []byte("email\nann@example.org\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	entries := func() []string {
		var names []string
		es, _ := os.ReadDir(dir)
		for _, e := range es {
			names = append(names, e.Name())
		}
		return names
	}
	w, err := CreateFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(killed); err == nil {
		t.Fatal("a killed writer's temporary file was left")
	}
	if err := w.Emit(Item{Row: 2, Email: "ann@example.org", Action: ActionSend, Reason: ReasonNotYetSent}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(Header{Kind: Kind, Version: Version, Customer: "C01"}); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	if got := entries(); len(got) != 1 || got[0] != "plan.jsonl" {
		t.Fatalf("after Commit and Close: %v", got)
	}
	// Interrupted before Commit: nothing at all.
	w, err = CreateFile(filepath.Join(dir, "other.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	if got := entries(); len(got) != 1 {
		t.Fatalf("after an interrupted plan: %v", got)
	}
	// A dry run's plan lives until Close.
	w, err = CreateFile("")
	if err != nil {
		t.Fatal(err)
	}
	tmp, err := w.Commit(Header{Kind: Kind, Version: Version, Customer: "C01"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tmp); err != nil {
		t.Fatalf("dry run plan: %v", err)
	}
	_ = w.Close()
	if _, err := os.Stat(tmp); err == nil {
		t.Fatal("a dry run's plan was left")
	}
}
