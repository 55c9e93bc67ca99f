// Package table lays out text tables that fit a terminal's width: every
// column but the last is as wide as its widest cell, and the last (a detail
// or a message, the one that can be long) takes what is left, wrapped onto
// more lines; when too little is left, it goes on lines of its own under its
// row. Cells must already be safe to print (safetext.Cell).
package table

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// DefaultWidth is the width tables fit when none is known: the classic
// terminal's 80 columns.
const DefaultWidth = 80

// minLast is the narrowest the last column may be beside the others;
// narrower, it moves under its row.
const minLast = 24

// Table is rows of cells to lay out.
type Table struct {
	// Width is the most a line may take, in characters; 0 means
	// DefaultWidth.
	Width int
	// Indent starts every line.
	Indent string
	rows   [][]string
}

// Row adds a row; rows may have fewer cells than others.
func (t *Table) Row(cells ...string) { t.rows = append(t.rows, cells) }

// Len is the number of rows added.
func (t *Table) Len() int { return len(t.rows) }

// Write lays the rows out on w.
func (t *Table) Write(w io.Writer) error {
	width := t.Width
	if width <= 0 {
		width = DefaultWidth
	}
	cols := 0
	for _, r := range t.rows {
		cols = max(cols, len(r))
	}
	if cols == 0 {
		return nil
	}
	last := cols - 1
	widths := make([]int, cols)
	for _, r := range t.rows {
		for i, c := range r {
			widths[i] = max(widths[i], runes(c))
		}
	}
	start := runes(t.Indent)
	for i := 0; i < last; i++ {
		start += widths[i] + 2
	}
	inline := width-start >= minLast || start+widths[last] <= width
	var b strings.Builder
	for _, r := range t.rows {
		b.WriteString(t.Indent)
		for i := 0; i < len(r) && i < last; i++ {
			b.WriteString(r[i])
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-runes(r[i])+2))
			}
		}
		lines := []string{b.String()}
		b.Reset()
		if len(r) == cols && r[last] != "" {
			if inline {
				wrapped := Wrap(r[last], max(width-start, minLast))
				lines[0] += wrapped[0]
				for _, l := range wrapped[1:] {
					lines = append(lines, strings.Repeat(" ", start)+l)
				}
			} else {
				under := t.Indent + "    "
				for _, l := range Wrap(r[last], width-runes(under)) {
					lines = append(lines, under+l)
				}
			}
		}
		for _, l := range lines {
			if _, err := fmt.Fprintln(w, strings.TrimRight(l, " ")); err != nil {
				return err
			}
		}
	}
	return nil
}

// Wrap breaks s into lines of at most width characters, at spaces where it
// can and inside a word longer than a line where it must. It always
// returns at least one line.
func Wrap(s string, width int) []string {
	width = max(width, 1)
	var lines []string
	for runes(s) > width {
		cut := byteAt(s, width)
		if sp := strings.LastIndexByte(s[:cut+1], ' '); sp > 0 {
			lines = append(lines, strings.TrimRight(s[:sp], " "))
			s = strings.TrimLeft(s[sp:], " ")
			continue
		}
		lines = append(lines, s[:cut])
		s = s[cut:]
	}
	return append(lines, s)
}

// byteAt is the byte offset of the n-th rune of s.
func byteAt(s string, n int) int {
	for i := range s {
		if n == 0 {
			return i
		}
		n--
	}
	return len(s)
}

func runes(s string) int { return utf8.RuneCountInString(s) }
