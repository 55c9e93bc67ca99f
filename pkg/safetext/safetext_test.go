package safetext

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
)

func TestTerminal(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"ann@example.org", "ann@example.org"},
		{"José Renée 日本", "José Renée 日本"},
		{`back\slash`, `back\slash`},
		// Item 14: what a crafted row or API message would do to a terminal.
		{"\x1b]0;owned\x07title", `\x1b]0;owned\atitle`},
		{"\x1b[2J\x1b[Hclear", `\x1b[2J\x1b[Hclear`},
		{"ok\rforged line", `ok\rforged line`},
		{"two\nlines\ttab", `two\nlines\ttab`},
		{"del\x7f", `del\x7f`},
		{"c1 \u009b31m csi \u009d osc \u0085", `c1 \u009b31m csi \u009d osc \u0085`},
		{"evil\u202egro.elpmaxe", `evil\u202egro.elpmaxe`},
		{"zero\u200bwidth\ufeff", `zero\u200bwidth\ufeff`},
		{"line\u2028sep", `line\u2028sep`},
		{"bad \xff\xfe utf8", `bad \xff\xfe utf8`},
		{"\U000e0001tag", `\U000e0001tag`},
	}
	for _, tt := range tests {
		if got := Terminal(tt.in); got != tt.want {
			t.Errorf("Terminal(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := Terminal(Terminal(tt.in)); got != Terminal(tt.in) {
			t.Errorf("Terminal is not idempotent on %q", tt.in)
		}
	}
}

func TestCell(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"longer than ten", 10, "longer th…"},
		{"ééééééééééé", 5, "éééé…"},
		{"\x1b[31mred", 0, `\x1b[31mred`},
		{"\x1b[31mred", 6, `\x1b[…`},
	}
	for _, tt := range tests {
		if got := Cell(tt.in, tt.max); got != tt.want {
			t.Errorf("Cell(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

func TestFormula(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"ann@example.org", "ann@example.org"},
		{"=1+2@example.org", "'=1+2@example.org"},
		{"=cmd|' /C calc'!A0@example.org", "'=cmd|' /C calc'!A0@example.org"},
		{"+33@example.org", "'+33@example.org"},
		{"-2+3@example.org", "'-2+3@example.org"},
		{"@sum(1+1)@example.org", "'@sum(1+1)@example.org"},
		{"\ttab@example.org", "'\ttab@example.org"},
		{"\r=cmd", "'\r=cmd"},
		{"a=b", "a=b"},
		{"'quoted", "''quoted"},
		{"42", "42"},
	}
	for _, tt := range tests {
		got := Formula(tt.in)
		if got != tt.want {
			t.Errorf("Formula(%q) = %q, want %q", tt.in, got, tt.want)
		}
		back, _ := Unformula(got)
		if back != tt.in {
			t.Errorf("Unformula(Formula(%q)) = %q", tt.in, back)
		}
	}
	// A quote a person typed before an ordinary value is kept.
	for _, s := range []string{"'quoted", "'", "o'neil@example.ie"} {
		if got, ok := Unformula(s); got != s || ok {
			t.Errorf("Unformula(%q) = %q, %v", s, got, ok)
		}
	}
}

func TestWriter(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	rec := []string{"=1+2@example.org", "plain", "-x"}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if rec[0] != "=1+2@example.org" {
		t.Errorf("Write changed its argument: %q", rec)
	}
	got, err := csv.NewReader(strings.NewReader(buf.String())).Read()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, "|") != "'=1+2@example.org|plain|'-x" {
		t.Errorf("wrote %q", got)
	}
}
