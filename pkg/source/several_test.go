package source

import (
	"path/filepath"
	"strings"
	"testing"
)

// A line of a list that holds several addresses (pasted from a mail
// client's To: field, or "a, b") is never read as its first address alone:
// the row is invalid_row, naming the others, so nobody is silently left out.
func TestSeveralAddressesOnOneLine(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []Target
		more map[int]string // row: what the detail must say of the other addresses
	}{
		{"outlook-to-line.txt", []Target{tg(1, "eva.quinn@example.org", ActionDefault, ReasonInvalidRow, 0)},
			map[int]string{1: "holds 2 more addresses (wen.hansen@example.org, oskar.quinn@example.org)"}},
		{"two-on-a-line.txt", []Target{
			tg(1, "ann@example.org", ActionDefault, "", 0),
			tg(2, "zoe.adams@example.org", ActionDefault, ReasonInvalidRow, 0),
			tg(3, "cat@example.org", ActionDefault, "", 0),
		}, map[int]string{2: "holds 1 more address (bjorn.adams@example.org)"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, _, err := readAll(t, filepath.Join("testdata", tc.file), Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range got {
				if want := tc.more[g.Row]; !strings.Contains(g.Detail, want) {
					t.Errorf("row %d: detail %q does not name %s", g.Row, g.Detail, want)
				}
			}
			checkTargets(t, got, tc.want)
		})
	}
}

// Address cleans one cell or argument as a row's address cell is cleaned,
// and refuses one that holds several addresses rather than keep the last.
func TestAddress(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"ann@example.org", "ann@example.org", ""},
		{" Ada Berg <Ada.Berg@Example.org> ", "ada.berg@example.org", ""},
		{`"Berg, Ada" <ada@example.org>;`, "ada@example.org", ""},
		{"<mailto:ada@example.org?subject=hi>,", "ada@example.org", ""},
		{"ada\u200b@example.org", "ada@example.org", ""},
		{"Ada <ada@example.org>, Bo <bo@example.org>", "", "holds 2 addresses (ada@example.org, bo@example.org)"},
		{"ada@example.org; bo@example.org", "", "holds 2 addresses (ada@example.org, bo@example.org)"},
		{"not an address", "", "white space"},
	} {
		got, err := Address(tc.in)
		if got != tc.want || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("Address(%q) = %q, %v; want %q, %q", tc.in, got, err, tc.want, tc.err)
		}
	}
}
