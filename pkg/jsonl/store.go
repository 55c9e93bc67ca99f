package jsonl

import (
	"hash/maphash"
	"strings"
)

// Strings keeps strings in a few big chunks and refers to them by Ref,
// which holds no pointer. A slice of a million structs that hold Refs is
// nothing for the garbage collector to scan, where a million strings (or a
// map keyed by them) would be scanned at every cycle, and a cycle comes
// every time the heap doubles while a big file is read. Not safe for
// concurrent use.
type Strings struct {
	chunks []string
	cur    strings.Builder
	next   int // the size of the next chunk
	// seen finds the Refs of values Share added, while it has room.
	seen map[string]Ref
}

// Ref is a string kept in Strings; the zero Ref is "".
type Ref struct{ chunk, off, n uint32 }

// Chunks grow from minChunk to maxChunk, so that a small store stays small.
const (
	minChunk = 4 << 10
	maxChunk = 1 << 20
)

// Add keeps v and returns its Ref.
func (s *Strings) Add(v string) Ref {
	if v == "" {
		return Ref{}
	}
	if s.cur.Cap()-s.cur.Len() < len(v) || len(s.chunks) == 0 {
		// A new chunk: the strings made so far keep the old one, whose
		// bytes a Builder never changes.
		s.next = min(max(2*s.next, minChunk), maxChunk)
		s.cur.Reset()
		s.cur.Grow(max(s.next, len(v)))
		s.chunks = append(s.chunks, "")
	}
	off := s.cur.Len()
	s.cur.WriteString(v)
	last := len(s.chunks) - 1
	s.chunks[last] = s.cur.String()
	return Ref{chunk: uint32(last), off: uint32(off), n: uint32(len(v))}
}

// Share is Add for values that repeat (reasons, states, messages): a value
// added before is kept once, for the first few thousand distinct values.
func (s *Strings) Share(v string) Ref {
	if r, ok := s.seen[v]; ok {
		return r
	}
	r := s.Add(v)
	if s.seen == nil {
		s.seen = map[string]Ref{}
	}
	if len(s.seen) < 4096 {
		s.seen[s.Get(r)] = r
	}
	return r
}

// Get returns the string r refers to, without copying it.
func (s *Strings) Get(r Ref) string {
	if r.n == 0 {
		return ""
	}
	return s.chunks[r.chunk][r.off : r.off+r.n]
}

// Index maps string keys to int32 values, such as positions in a slice,
// holding no pointer: it keeps the keys' 64-bit hashes, and checks a key
// found against the one its value stands for (is). Two keys of a million
// share a hash about once in 30 million indexes; those that do are kept
// whole, apart.
type Index struct {
	seed  maphash.Seed
	m     map[uint64]int32
	extra map[string]int32
}

// NewIndex returns an index sized for n keys.
func NewIndex(n int) *Index {
	return &Index{seed: maphash.MakeSeed(), m: make(map[uint64]int32, n)}
}

// Len is the number of keys.
func (x *Index) Len() int { return len(x.m) + len(x.extra) }

// Get returns key's value; is(v) reports whether value v stands for key.
func (x *Index) Get(key string, is func(v int32) bool) (int32, bool) {
	if v, ok := x.extra[key]; ok {
		return v, true
	}
	if v, ok := x.m[maphash.String(x.seed, key)]; ok && is(v) {
		return v, true
	}
	return 0, false
}

// Add returns key's value and true; or, for a key it does not have, gives
// it v and returns v and false.
func (x *Index) Add(key string, v int32, is func(v int32) bool) (int32, bool) {
	if old, ok := x.extra[key]; ok {
		return old, true
	}
	h := maphash.String(x.seed, key)
	old, ok := x.m[h]
	switch {
	case !ok:
		x.m[h] = v
		return v, false
	case is(old):
		return old, true
	}
	if x.extra == nil {
		x.extra = map[string]int32{}
	}
	x.extra[key] = v // another key has this hash
	return v, false
}
