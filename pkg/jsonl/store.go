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
// holding no pointer. It is an open-addressing table of 64-bit slots, each
// a 32-bit tag of the key's hash and the value: one cache line answers most
// lookups, where a map keyed by the hash costs several, and a million keys
// take 16 MiB. A tag stands for many keys, so a slot whose tag matches is
// checked against the key its value stands for (is); keys are never kept.
type Index struct {
	seed  maphash.Seed
	hash  func(maphash.Seed, string) uint64 // maphash.String; tests collide keys
	slots []uint64                          // tag<<32 | v+1; 0 is empty
	n     int
}

// NewIndex returns an index sized for n keys.
func NewIndex(n int) *Index {
	x := &Index{seed: maphash.MakeSeed(), hash: maphash.String}
	x.slots = make([]uint64, slotsFor(n))
	return x
}

// slotsFor is the power of two that holds n keys at most 3/4 full; past a
// billion keys the table starts at that and grows.
func slotsFor(n int) int {
	n = min(n, 1<<30)
	c := 8
	for c*3/4 < n {
		c *= 2
	}
	return c
}

// tag is the part of key's hash that a slot keeps.
func (x *Index) tag(key string) uint32 { return uint32(x.hash(x.seed, key) >> 32) }

// find returns the slot of the value of the key with this tag that is
// accepts, or of the empty slot where it would go, and whether it is there.
func (x *Index) find(tag uint32, is func(v int32) bool) (int, bool) {
	mask := len(x.slots) - 1
	for i := int(tag) & mask; ; i = (i + 1) & mask {
		s := x.slots[i]
		switch {
		case s == 0:
			return i, false
		case uint32(s>>32) == tag && is(int32(uint32(s)-1)):
			return i, true
		}
	}
}

// Get returns key's value; is(v) reports whether value v stands for key.
// is may be asked about any value ever added (those whose tags match).
func (x *Index) Get(key string, is func(v int32) bool) (int32, bool) {
	if i, ok := x.find(x.tag(key), is); ok {
		return int32(uint32(x.slots[i]) - 1), true
	}
	return 0, false
}

// Add returns key's value and true; or, for a key it does not have, gives
// it v (which must not be negative) and returns v and false.
func (x *Index) Add(key string, v int32, is func(v int32) bool) (int32, bool) {
	if v < 0 {
		panic("jsonl: negative Index value")
	}
	tag := x.tag(key)
	i, ok := x.find(tag, is)
	if ok {
		return int32(uint32(x.slots[i]) - 1), true
	}
	if (x.n+1)*4 > len(x.slots)*3 {
		x.grow()
		i, _ = x.find(tag, func(int32) bool { return false })
	}
	x.slots[i] = uint64(tag)<<32 | uint64(uint32(v)+1)
	x.n++
	return v, false
}

// grow doubles the slots. A slot's place comes from its tag alone, so the
// keys are not needed to move it.
func (x *Index) grow() {
	old := x.slots
	x.slots = make([]uint64, 2*len(old))
	mask := len(x.slots) - 1
	for _, s := range old {
		if s == 0 {
			continue
		}
		i := int(uint32(s>>32)) & mask
		for x.slots[i] != 0 {
			i = (i + 1) & mask
		}
		x.slots[i] = s
	}
}
