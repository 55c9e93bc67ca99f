package source

import (
	"hash/maphash"
	"math"
)

// seenSet maps each address claimed so far to the row that claimed it. It
// is the only state that grows with the input, so it keys on a 96-bit hash
// of the address (two independent maphash values under random seeds, see
// seenSlot) rather than on the string: it then holds no pointers for the
// garbage collector to scan on every cycle and no copy of the addresses.
// The keys sit in one open-addressing table, at most 3/4 full, where a Go
// map cost a tenth of the reading of a big file in probing and growing.
type seenSet struct {
	seed1, seed2 maphash.Seed
	slots        []seenSlot
	n            int
}

// seenSlot is one claimed address in 16 bytes: its hashes (the second cut
// to 32 bits, 96 bits in all: two of a million addresses share them with a
// probability near 10^-17) and next, its row + 1 (0 for an empty slot).
// Rows are line numbers (at least 1, and bounded by the input's limits);
// any past 2^32 - 2 would all be told as that row.
type seenSlot struct {
	h1   uint64
	h2   uint32
	next uint32
}

func newSeenSet() seenSet {
	return seenSet{seed1: maphash.MakeSeed(), seed2: maphash.MakeSeed(), slots: make([]seenSlot, 1024)}
}

// claim records row as the first occurrence of addr and reports true, or
// returns the row that claimed it earlier and false.
func (s *seenSet) claim(addr string, row int) (int, bool) {
	h1, h2 := maphash.String(s.seed1, addr), uint32(maphash.String(s.seed2, addr))
	i := s.find(h1, h2)
	if sl := &s.slots[i]; sl.next != 0 {
		return int(sl.next) - 1, false
	}
	if (s.n+1)*4 > len(s.slots)*3 {
		s.grow()
		i = s.find(h1, h2)
	}
	s.slots[i] = seenSlot{h1: h1, h2: h2, next: uint32(min(row+1, math.MaxUint32))}
	s.n++
	return row, true
}

// find returns the slot holding the key, or the empty one where it goes.
func (s *seenSet) find(h1 uint64, h2 uint32) int {
	mask := len(s.slots) - 1
	for i := int(h1) & mask; ; i = (i + 1) & mask {
		if sl := &s.slots[i]; sl.next == 0 || sl.h1 == h1 && sl.h2 == h2 {
			return i
		}
	}
}

// grow doubles the table.
func (s *seenSet) grow() {
	old := s.slots
	s.slots = make([]seenSlot, 2*len(old))
	for _, sl := range old {
		if sl.next != 0 {
			s.slots[s.find(sl.h1, sl.h2)] = sl
		}
	}
}
