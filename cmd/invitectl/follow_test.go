package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/invitectl/invitectl/pkg/emulator"
	"github.com/invitectl/invitectl/pkg/spreadsheet"
)

// cmdChange changes an account while the emulator runs, as another
// administrator or the user would: change EMAIL do=accept|decline|send|cancel,
// or change EMAIL [state=S] [kind=K] [mails=N] [age=D] (age: updateTime that
// long ago).
func cmdChange(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: change EMAIL do=ACTION | state=S kind=K mails=N age=D")
	}
	srv := server(ts)
	var set emulator.AccountChange
	for _, a := range args[1:] {
		k, v, _ := strings.Cut(a, "=")
		switch k {
		case "do":
			ts.Check(srv.Act(args[0], v))
			return
		case "state":
			set.State = v
		case "kind":
			set.Kind = v
		case "mails":
			n, err := strconv.ParseInt(v, 10, 64)
			ts.Check(err)
			set.Mails = &n
		case "age":
			d, err := time.ParseDuration(v)
			ts.Check(err)
			set.UpdateTime = time.Now().Add(-d).UTC()
		default:
			ts.Fatalf("change: unknown field %s", k)
		}
	}
	ts.Check(srv.Set(args[0], set))
}

// cmdSheet reads back the spreadsheet whose URL the previous command
// printed, through the generated Sheets client (spreadsheets.get and
// values.get), as a colleague opening it would see it: its title, then one
// row per line, cells joined by '|': sheet RANGE.
func cmdSheet(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: sheet RANGE (after a command that printed a spreadsheet's URL)")
	}
	base := ts.Getenv("EMULATOR")
	var id string
	for _, l := range strings.Split(ts.ReadFile("stdout"), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(l), base+"/spreadsheets/d/"); ok {
			id = strings.TrimSuffix(rest, "/edit")
		}
	}
	if id == "" {
		ts.Fatalf("the previous command printed no spreadsheet of the emulator at %s", base)
	}
	svc, err := spreadsheet.NewService(context.Background(), spreadsheet.Config{Endpoint: base})
	ts.Check(err)
	sp, err := svc.Spreadsheets.Get(id).Do()
	ts.Check(err)
	vr, err := svc.Spreadsheets.Values.Get(id, args[0]).Do()
	ts.Check(err)
	out := ts.Stdout()
	fmt.Fprintf(out, "title: %s\n", sp.Properties.Title)
	for _, row := range vr.Values {
		cells := make([]string, len(row))
		for i, c := range row {
			cells[i] = fmt.Sprint(c)
		}
		fmt.Fprintln(out, strings.Join(cells, "|"))
	}
}

// cmdGenworld writes a world of N accounts in one state, and optionally a
// campaign naming the first K of them: genworld FILE CUSTOMER N STATE
// [CAMPAIGN K]. The addresses are u000@acme-corp.example, u001@….
func cmdGenworld(ts *testscript.TestScript, neg bool, args []string) {
	if neg || (len(args) != 4 && len(args) != 6) {
		ts.Fatalf("usage: genworld FILE CUSTOMER N STATE [CAMPAIGN K]")
	}
	n, err := strconv.Atoi(args[2])
	ts.Check(err)
	w := emulator.World{Customer: args[1]}
	for i := range n {
		w.Users = append(w.Users, emulator.User{Email: fmt.Sprintf("u%03d@acme-corp.example", i), State: args[3], Mails: 1})
	}
	b, err := json.Marshal(w)
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), b, 0o600))
	if len(args) == 6 {
		k, err := strconv.Atoi(args[5])
		ts.Check(err)
		var c strings.Builder
		c.WriteString("email\n")
		for _, u := range w.Users[:k] {
			c.WriteString(u.Email + "\n")
		}
		ts.Check(os.WriteFile(ts.MkAbs(args[4]), []byte(c.String()), 0o600))
	}
}

// TestPruneTypedCount: on a terminal, a prune above the limits is applied
// only when the count is typed (issue 11 item 6); a wrong count cancels
// nothing and leaves no journal.
func TestPruneTypedCount(t *testing.T) {
	w := emulator.World{Customer: "C0prun02"}
	for i := range 10 {
		w.Users = append(w.Users, emulator.User{Email: fmt.Sprintf("u%d@acme-corp.example", i), State: "INVITED", Mails: 1})
	}
	srv, err := emulator.New(w, emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	dir := t.TempDir()
	env := map[string]string{"INVITECTL_ENDPOINT": hs.URL, "INVITECTL_CUSTOMER": w.Customer, "INVITECTL_STATE_DIR": filepath.Join(dir, "state")}
	input := filepath.Join(dir, "one.csv")
	plan := filepath.Join(dir, "plan.jsonl")
	if err := os.WriteFile(input, []byte("email\nu0@acme-corp.example\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCLI(t, env, "plan", "-i", input, "-o", plan, "--prune", "--no-progress"); code != 0 {
		t.Fatalf("plan exited %d: %s", code, errOut)
	}
	apply := func(answer string) (int, string) {
		var out, errOut bytes.Buffer
		code := run([]string{"apply", plan, "--no-progress", "--write-qps", "0"}, ioStreams{in: strings.NewReader(answer), out: &out, errOut: &errOut,
			stdinTTY: true, getenv: func(k string) string { return env[k] }})
		return code, errOut.String()
	}
	code, errOut := apply("8\n")
	if code != exitUsage || !strings.Contains(errOut, "type the number of invitations to cancel (9)") || !strings.Contains(errOut, "the number typed was not 9") {
		t.Fatalf("wrong count: exit %d\n%s", code, errOut)
	}
	if n := srv.State().Calls["cancel"]; n != 0 {
		t.Fatalf("%d cancels after a wrong count", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "plan.results.jsonl")); !os.IsNotExist(err) {
		t.Fatalf("a refused apply left a journal: %v", err)
	}
	// The count, then the usual yes.
	code, errOut = apply("9\nyes\n")
	if code != exitOK || srv.State().Calls["cancel"] != 9 {
		t.Fatalf("typed count: exit %d, %d cancels\n%s", code, srv.State().Calls["cancel"], errOut)
	}
}
