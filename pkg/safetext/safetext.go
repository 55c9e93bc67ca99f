// Package safetext makes text that a user's file or the API supplied safe to
// show: on a terminal, where control characters are commands, and in a CSV
// file, which a spreadsheet may read as formulas. Every human-facing output
// of invitectl goes through Terminal or Cell, and every CSV it writes through
// Writer, so that one implementation decides what is escaped.
package safetext

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Terminal escapes what a terminal would act on rather than show: C0
// control characters (ESC, BEL, CR, LF, TAB, ...), DEL, C1 control
// characters (U+0080 to U+009F, which include the 8-bit CSI and OSC), the
// line and paragraph separators, and invisible format characters (Unicode
// category Cf: bidirectional overrides that reorder a line, zero-width
// characters that hide in an address). Each becomes a Go-style escape (\x1b,
// \n, \u202e) and so does every byte that is not UTF-8, so a crafted value
// can neither drive the terminal nor forge a line of output, and what was
// hidden becomes visible. Other text, backslashes included, is unchanged.
func Terminal(s string) string {
	i := unsafeIndex(s)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case needsEscape(r):
			writeEscape(&b, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// Cell is Terminal for one column of a table: the text escaped and cut to
// at most max runes (an ellipsis marks the cut; max <= 0 does not cut).
func Cell(s string, max int) string {
	s = Terminal(s)
	if max <= 0 || utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max-1 {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// unsafeIndex is the index of the first byte Terminal changes, or -1.
func unsafeIndex(s string) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return i
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || needsEscape(r) {
			return i
		}
		i += size
	}
	return -1
}

func needsEscape(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r == '\u2028', r == '\u2029':
		return true
	case r < 0x80:
		return false
	}
	return unicode.Is(unicode.Cf, r)
}

func writeEscape(b *strings.Builder, r rune) {
	switch r {
	case '\a':
		b.WriteString(`\a`)
	case '\b':
		b.WriteString(`\b`)
	case '\f':
		b.WriteString(`\f`)
	case '\n':
		b.WriteString(`\n`)
	case '\r':
		b.WriteString(`\r`)
	case '\t':
		b.WriteString(`\t`)
	case '\v':
		b.WriteString(`\v`)
	default:
		switch {
		case r < 0x80:
			fmt.Fprintf(b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(b, `\u%04x`, r)
		default:
			fmt.Fprintf(b, `\U%08x`, r)
		}
	}
}

// formulaStart reports whether a spreadsheet would read a cell beginning
// with c as a formula: =, +, - and @ start one, and a leading tab or
// carriage return is dropped by some importers, exposing what follows
// (OWASP, "CSV Injection").
func formulaStart(c byte) bool {
	switch c {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	return false
}

// Formula defuses a CSV cell that a spreadsheet would read as a formula by
// prefixing a single quote, as OWASP recommends. The quote shows, so an
// address such as -x@example.org stays recognisable. A cell that already
// begins with a quote gets one more, so that Unformula gives back exactly
// the value written: a CSV that invitectl writes can be read again as its
// input (`invitectl list --format csv | invitectl plan -i -`).
func Formula(cell string) string {
	if cell != "" && (formulaStart(cell[0]) || cell[0] == '\'') {
		return "'" + cell
	}
	return cell
}

// Unformula undoes Formula: it drops a leading quote that is followed by a
// formula character or another quote, and reports whether it did.
func Unformula(cell string) (string, bool) {
	if len(cell) >= 2 && cell[0] == '\'' && (formulaStart(cell[1]) || cell[1] == '\'') {
		return cell[1:], true
	}
	return cell, false
}

// Writer writes CSV whose every cell went through Formula.
type Writer struct {
	w     *csv.Writer
	cells []string
}

// NewWriter returns a Writer on w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: csv.NewWriter(w)} }

// Write writes one record, its cells defused; record itself is not changed.
func (w *Writer) Write(record []string) error {
	w.cells = w.cells[:0]
	for _, c := range record {
		w.cells = append(w.cells, Formula(c))
	}
	return w.w.Write(w.cells)
}

// Flush writes what is buffered and returns the first error of any Write or
// Flush so far.
func (w *Writer) Flush() error {
	w.w.Flush()
	return w.w.Error()
}

// WriteCSV writes as CSV the records that rows yields, every cell defused:
// the error of rows, or else of the writing, wrapped as "write csv".
func WriteCSV(w io.Writer, rows func(yield func([]string) error) error) error {
	cw := NewWriter(w)
	err := rows(cw.Write)
	if ferr := cw.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}
