package address

import "testing"

func TestClean(t *testing.T) {
	tests := []struct {
		in, want, note string
	}{
		{"ann@example.org", "ann@example.org", ""},
		{"  Ann@Example.org\t", "Ann@Example.org", ""},
		// Item 6: invisible format characters, anywhere.
		{"\u200bann@example.org", "ann@example.org", "removed invisible U+200B"},
		{"ann@example.org\ufeff", "ann@example.org", "removed invisible U+FEFF"},
		{"\u200fann@exam\u00adple.org\u200b", "ann@example.org", "removed invisible U+200F, U+00AD, U+200B"},
		{"a\u200bn\u200bn@example.org", "ann@example.org", "removed invisible U+200B"},
		{"\u00a0\u200b ann@example.org", "ann@example.org", "removed invisible U+200B"},
		// Item 7: wrapped in a name or a scheme.
		{"Ann Example <ann@example.org>", "ann@example.org", `taken from "Ann Example <ann@example.org>"`},
		{`"Example, Ann" <ann@example.org>`, "ann@example.org", `taken from "\"Example, Ann\" <ann@example.org>"`},
		{"<ann@example.org>", "ann@example.org", `taken from "<ann@example.org>"`},
		{"mailto:ann@example.org", "ann@example.org", `taken from "mailto:ann@example.org"`},
		{"MAILTO:ann@example.org?subject=Hi", "ann@example.org", `taken from "MAILTO:ann@example.org?subject=Hi"`},
		{"ann@example.org;", "ann@example.org", `taken from "ann@example.org;"`},
		{"ann@example.org ; ", "ann@example.org", `taken from "ann@example.org ;"`},
		{"Ann <mailto:ann@example.org>;", "ann@example.org", `taken from "Ann <mailto:ann@example.org>;"`},
		{`"a<b" <ann@example.org>`, "ann@example.org", `taken from "\"a<b\" <ann@example.org>"`},
		{"Ann\u200b <ann@example.org>", "ann@example.org", `removed invisible U+200B; taken from "Ann\u200b <ann@example.org>"`},
		// What is left is Key's to judge.
		{"Ann Example", "Ann Example", ""},
		{"<>", "", `taken from "<>"`},
		{"\u200b", "", "removed invisible U+200B"},
		{"a@b <c", "a@b <c", ""},
	}
	for _, tt := range tests {
		got, note := Clean(tt.in)
		if got != tt.want || note != tt.note {
			t.Errorf("Clean(%q) = %q, %q; want %q, %q", tt.in, got, note, tt.want, tt.note)
		}
	}
}

func TestCleanThenKey(t *testing.T) {
	// Clean never makes Key accept what it refuses on its own: the Kelvin
	// sign is a letter, not a format character, and stays refused.
	for _, s := range []string{"\u212aate@example.com", "Kate <\u212aate@example.com>", "x@127.0.0.1;"} {
		c, _ := Clean(s)
		if k, err := Key(c); err == nil {
			t.Errorf("Key(Clean(%q)) = %q, want a refusal", s, k)
		}
	}
	c, _ := Clean("\u200bAnn Example <ANN@Example.org>;")
	if k, err := Key(c); err != nil || k != "ann@example.org" {
		t.Errorf("Key(Clean(…)) = %q, %v", k, err)
	}
}
