package table

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestWrap(t *testing.T) {
	tests := []struct {
		in    string
		width int
		want  []string
	}{
		{"short", 10, []string{"short"}},
		{"", 10, []string{""}},
		{"one two three four", 9, []string{"one two", "three", "four"}},
		{"abcdefghijkl", 5, []string{"abcde", "fghij", "kl"}},
		{"héllo wörld", 5, []string{"héllo", "wörld"}},
		{"a  b", 1, []string{"a", "b"}},
	}
	for _, tt := range tests {
		got := Wrap(tt.in, tt.width)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("Wrap(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
		}
	}
}

func TestTableFits(t *testing.T) {
	long := strings.Repeat("a long detail that goes on ", 8)
	tests := []struct {
		name  string
		width int
		rows  [][]string
		want  string
	}{
		{"fits", 80, [][]string{{"row 2", "a@example.org", "short"}, {"row 10", "bb@example.org", "x"}},
			"  row 2   a@example.org   short\n  row 10  bb@example.org  x\n"},
		{"wraps beside", 50, [][]string{{"row 2", "a@example.org", "one two three four five six"}},
			"  row 2  a@example.org  one two three four five\n" + strings.Repeat(" ", 24) + "six\n"},
		{"moves under", 40, [][]string{{"row 2", strings.Repeat("x", 25) + "@example.org", "one two three"}},
			"  row 2  " + strings.Repeat("x", 25) + "@example.org\n      one two three\n"},
		{"short rows", 80, [][]string{{"a", "b", "c"}, {"only"}}, "  a     b  c\n  only\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := Table{Width: tt.width, Indent: "  "}
			for _, r := range tt.rows {
				tb.Row(r...)
			}
			var b strings.Builder
			if err := tb.Write(&b); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got\n%s\nwant\n%s", b.String(), tt.want)
			}
		})
	}
	for _, width := range []int{40, 60, 80, 120} {
		tb := Table{Width: width, Indent: "  "}
		tb.Row("row 1234", "someone.with.a.long.name@example.org", "already_invited", long)
		var b strings.Builder
		_ = tb.Write(&b)
		for _, l := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
			if utf8.RuneCountInString(l) > max(width, 2+8+2+36+2+15) {
				t.Errorf("width %d: line of %d: %q", width, utf8.RuneCountInString(l), l)
			}
		}
		if !strings.Contains(strings.Join(strings.Fields(b.String()), " "), strings.TrimSpace(long)) {
			t.Errorf("width %d: the detail lost words:\n%s", width, b.String())
		}
	}
}
