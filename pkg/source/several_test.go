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
		more map[int]string // row: an address the detail must name
	}{
		{"outlook-to-line.txt", []Target{tg(1, "eva.quinn@example.org", ActionDefault, ReasonInvalidRow, 0)},
			map[int]string{1: "oskar.quinn@example.org"}},
		{"two-on-a-line.txt", []Target{
			tg(1, "ann@example.org", ActionDefault, "", 0),
			tg(2, "zoe.adams@example.org", ActionDefault, ReasonInvalidRow, 0),
			tg(3, "cat@example.org", ActionDefault, "", 0),
		}, map[int]string{2: "bjorn.adams@example.org"}},
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
