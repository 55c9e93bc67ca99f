package main

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Every column of list's CSV is defused, not only the address: the API
// passes an unknown state through as it came, so a hostile or broken
// server decides that column too.
func TestListCSVDefusesTheState(t *testing.T) {
	states := []string{"=cmd|' /C calc'!A0", "@sum(1+1)", "+1", "-2+3"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		var invs []map[string]string
		for _, st := range states {
			invs = append(invs, map[string]string{"name": "customers/C0evil01/userinvitations/plain@x.org",
				"state": st, "mailsSentCount": "1", "updateTime": "2026-01-01T00:00:00Z"})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"userInvitations": invs})
	}))
	t.Cleanup(srv.Close)
	env := map[string]string{"INVITECTL_ENDPOINT": srv.URL, "INVITECTL_CUSTOMER": "C0evil01"}
	code, out, errOut := runCLI(t, env, "list", "--format", "csv")
	if code != 0 {
		t.Fatalf("list --format csv exited %d: %s", code, errOut)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != len(states)+1 {
		t.Fatalf("%d rows, %v:\n%s", len(rows), err, out)
	}
	for i, st := range states {
		if got := rows[i+1][1]; got != "'"+st {
			t.Errorf("state %q written as %q, want %q", st, got, "'"+st)
		}
	}
}
