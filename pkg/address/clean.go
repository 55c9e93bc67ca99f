package address

import (
	"fmt"
	"strings"
	"unicode"
)

// maxNoted bounds how many distinct removed characters a note lists.
const maxNoted = 4

// Clean takes the address out of a cell as people paste it, for Key to
// validate. It removes every invisible format character (Unicode category
// Cf: U+200B ZERO WIDTH SPACE, U+FEFF, U+200E/U+200F direction marks, U+00AD
// SOFT HYPHEN, ...) wherever it is, as copying from web pages, PDFs and
// chat leaves them in, and then unwraps what mail clients add around an
// address: a display name ("Ann Example <ann@example.org>", "\"Example,
// Ann\" <ann@example.org>"), angle brackets alone, a mailto: scheme (and its
// ?query), and trailing list separators (";" or ","). It never alters the
// address itself: case, dots and every other character are Key's business.
//
// note says what was done, for a report: "" when s comes back only trimmed,
// else "removed invisible U+200B" and/or `taken from "Ann <ann@…>"` (the
// original quoted, with its invisible characters escaped).
func Clean(s string) (addr, note string) {
	t, removed := stripFormat(Trim(s))
	t = Trim(t)
	u := unwrap(t)
	var parts []string
	if len(removed) > 0 {
		parts = append(parts, "removed invisible "+runeList(removed))
	}
	if u != t {
		parts = append(parts, fmt.Sprintf("taken from %q", Trim(s)))
	}
	return u, strings.Join(parts, "; ")
}

// stripFormat removes the Cf characters of s and returns them, each once,
// in order of appearance.
func stripFormat(s string) (string, []rune) {
	if strings.IndexFunc(s, isFormat) < 0 {
		return s, nil // the common case: no copy
	}
	var removed []rune
	out := strings.Map(func(r rune) rune {
		if !isFormat(r) {
			return r
		}
		if !containsRune(removed, r) {
			removed = append(removed, r)
		}
		return -1
	}, s)
	return out, removed
}

func isFormat(r rune) bool { return r >= 0x80 && unicode.Is(unicode.Cf, r) }

func containsRune(rs []rune, r rune) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

func runeList(rs []rune) string {
	var b strings.Builder
	for i, r := range rs {
		if i == maxNoted {
			fmt.Fprintf(&b, " and %d more", len(rs)-maxNoted)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%U", r)
	}
	return b.String()
}

func isSeparator(r rune) bool { return r == ';' || r == ',' }

// wrapped reports whether unwrap may change s.
func wrapped(s string) bool {
	if s == "" {
		return false
	}
	switch s[len(s)-1] {
	case ';', ',', '>':
		return true
	}
	return len(s) >= len("mailto:") && strings.EqualFold(s[:len("mailto:")], "mailto:")
}

// unwrap peels the wrappings off an already trimmed cell until none is
// left, so that "<mailto:ann@example.org>;" is unwrapped too.
func unwrap(s string) string {
	if !wrapped(s) {
		return s // the common case, without a copy
	}
	for {
		t := Trim(strings.TrimRightFunc(s, isSeparator))
		if i := strings.LastIndexByte(t, '<'); i >= 0 && strings.HasSuffix(t, ">") {
			// The display name may itself hold '<' inside quotes; the
			// address is what the last pair of brackets encloses.
			t = Trim(t[i+1 : len(t)-1])
		}
		if len(t) >= len("mailto:") && strings.EqualFold(t[:len("mailto:")], "mailto:") {
			t = t[len("mailto:"):]
			if q := strings.IndexByte(t, '?'); q >= 0 {
				t = t[:q] // ?subject=…: '?' cannot be in an address Key accepts
			}
			t = Trim(t)
		}
		if t == s {
			return t
		}
		s = t
	}
}
