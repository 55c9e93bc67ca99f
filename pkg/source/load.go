package source

import (
	"encoding/binary"
	"fmt"
)

// Loaded is an input read whole and kept in a compact form, so that it is
// read once (a pipe or a FIFO cannot be read twice), refused before anything
// else happens when it is not a campaign, and then replayed to the planner
// as often as needed. A row costs its address, detail and other columns'
// values plus four or five bytes (and two per other column); a repeat of
// an address, or an empty address cell, four or five bytes besides its
// columns. The rows are kept in chunks, which never need copying as they
// grow; the columns' names are kept once.
type Loaded struct {
	info   Info
	chunks [][]byte
	// firsts are the rows that duplicates name as their first occurrence;
	// a duplicate keeps the index in firsts, and the replay keeps the
	// address of those rows only.
	firsts  []int
	firstIx map[int]int
	// names are the other columns' names, which rows refer to by index.
	names  []string
	nameIx map[string]int
}

// chunkSize is the size of the chunks rows are kept in; a row (an address
// of at most 256 bytes and a short detail) always fits in one.
const chunkSize = 1 << 20

// Load runs read (ReadFile, Read or ReadSheet, bound to their arguments)
// once and keeps what it yields. It returns read's error as is.
func Load(read func(fn func(Target) error) (Info, error)) (*Loaded, error) {
	l := &Loaded{firstIx: map[int]int{}, nameIx: map[string]int{}}
	prev := 0
	info, err := read(func(t Target) error {
		l.add(t, prev)
		prev = t.Row
		return nil
	})
	if err != nil {
		return nil, err
	}
	l.info = info
	return l, nil
}

// Info describes the input as it was read.
func (l *Loaded) Info() Info { return l.info }

// The first byte of a row: the action in the low two bits, then the
// reason in three, whether the row asks to send again, and whether an
// address and a detail follow. The count of other columns comes last.
const (
	flagResend    = 1 << 5
	flagHasDetail = 1 << 6
	flagEmpty     = 1 << 7 // invalid_email of an empty cell: no address, the detail below
)

const emptyDetail = "empty address"

var (
	actionCodes = []Action{ActionDefault, ActionInvite, ActionCancel, ActionNone}
	reasonCodes = []string{"", ReasonInvalidEmail, ReasonInvalidRow, ReasonDuplicate, ReasonNoAction}
)

func code[T comparable](codes []T, v T) byte {
	for i, c := range codes {
		if c == v {
			return byte(i)
		}
	}
	panic(fmt.Sprintf("source: no code for %v", v))
}

// add appends t, whose row follows prev. Rows grow in input order, so the
// row is kept as the difference.
func (l *Loaded) add(t Target, prev int) {
	var buf [2 * binary.MaxVarintLen64]byte
	b := binary.AppendUvarint(buf[:0], uint64(t.Row-prev))
	flags := code(actionCodes, t.Action) | code(reasonCodes, t.Reason)<<2
	empty := t.Reason == ReasonInvalidEmail && t.Email == "" && t.Detail == emptyDetail
	switch {
	case empty:
		flags |= flagEmpty
	case t.Detail != "":
		flags |= flagHasDetail
	}
	if t.Resend {
		flags |= flagResend
	}
	b = append(b, flags)
	switch {
	case t.Reason == ReasonDuplicate:
		ix, ok := l.firstIx[t.FirstRow]
		if !ok {
			ix = len(l.firsts)
			l.firsts = append(l.firsts, t.FirstRow)
			l.firstIx[t.FirstRow] = ix
		}
		b = binary.AppendUvarint(b, uint64(ix))
		l.write(b)
	case empty:
		l.write(b)
	default:
		l.write(b)
		l.writeString(t.Email)
	}
	if flags&flagHasDetail != 0 {
		l.writeString(t.Detail)
	}
	l.write(binary.AppendUvarint(buf[:0], uint64(len(t.Columns))))
	for _, c := range t.Columns {
		ix, ok := l.nameIx[c.Name]
		if !ok {
			ix = len(l.names)
			l.names = append(l.names, c.Name)
			l.nameIx[c.Name] = ix
		}
		l.write(binary.AppendUvarint(buf[:0], uint64(ix)))
		l.writeString(c.Value)
	}
}

func (l *Loaded) write(b []byte) { writePiece(l, b) }

func (l *Loaded) writeString(s string) {
	var buf [binary.MaxVarintLen64]byte
	writePiece(l, binary.AppendUvarint(buf[:0], uint64(len(s))))
	writePiece(l, s)
}

// writePiece appends p to the last chunk, or to a new one when it is full.
// A row is written in a few pieces, and a chunk has room for the longest.
func writePiece[P string | []byte](l *Loaded, p P) {
	last := len(l.chunks) - 1
	if last < 0 || len(l.chunks[last])+len(p) > cap(l.chunks[last]) {
		l.chunks = append(l.chunks, make([]byte, 0, chunkSize))
		last++
	}
	l.chunks[last] = append(l.chunks[last], p...)
}

// Each gives every target to fn in input order, as read did; fn's error
// stops it and is returned. It has the type of planner.Targets.
func (l *Loaded) Each(fn func(Target) error) (Info, error) {
	emails := make([]string, len(l.firsts)) // address of each first row
	wanted := make(map[int]int, len(l.firsts))
	for ix, row := range l.firsts {
		wanted[row] = ix
	}
	r := reader{chunks: l.chunks}
	row := 0
	for !r.done() {
		var t Target
		row += int(r.uvarint())
		t.Row = row
		flags := r.byte()
		t.Action = actionCodes[flags&3]
		t.Reason = reasonCodes[(flags>>2)&7]
		switch {
		case t.Reason == ReasonDuplicate:
			ix := int(r.uvarint())
			t.FirstRow, t.Email = l.firsts[ix], emails[ix]
		case flags&flagEmpty != 0:
			t.Detail = emptyDetail
		default:
			t.Email = r.string()
			if ix, ok := wanted[row]; ok {
				emails[ix] = t.Email
			}
		}
		if flags&flagHasDetail != 0 {
			t.Detail = r.string()
		}
		t.Resend = flags&flagResend != 0
		if n := int(r.uvarint()); n > 0 {
			t.Columns = make([]Column, n)
			for i := range t.Columns {
				t.Columns[i].Name = l.names[r.uvarint()]
				t.Columns[i].Value = r.string()
			}
		}
		if err := fn(t); err != nil {
			return l.info, err
		}
	}
	return l.info, nil
}

// reader reads rows back from the chunks; a piece never spans two.
type reader struct {
	chunks [][]byte
	cur    []byte
}

func (r *reader) done() bool {
	for len(r.cur) == 0 {
		if len(r.chunks) == 0 {
			return true
		}
		r.cur, r.chunks = r.chunks[0], r.chunks[1:]
	}
	return false
}

func (r *reader) uvarint() uint64 {
	r.done()
	v, n := binary.Uvarint(r.cur)
	r.cur = r.cur[n:]
	return v
}

func (r *reader) byte() byte {
	r.done()
	b := r.cur[0]
	r.cur = r.cur[1:]
	return b
}

func (r *reader) string() string {
	n := int(r.uvarint())
	if n == 0 {
		return ""
	}
	r.done()
	s := string(r.cur[:n])
	r.cur = r.cur[n:]
	return s
}
