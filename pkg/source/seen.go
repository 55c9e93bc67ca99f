package source

import "hash/maphash"

// seenSet maps each address claimed so far to the row that claimed it. It
// is the only state that grows with the input, so it keys on a 128-bit hash
// of the address (two independent 64-bit maphash values under random seeds)
// rather than on the string: it then holds no pointers for the garbage
// collector to scan on every cycle and no copy of the addresses. Two of a
// million addresses share a key with a probability near 10^-27. The keys
// sit in one open-addressing table, at most 3/4 full, where a Go map cost
// a tenth of the reading of a big file in probing and growing.
type seenSet struct {
	seed1, seed2 maphash.Seed
	slots        []seenSlot
	n            int
}

// seenSlot is one claimed address; next is its row + 1, 0 for an empty slot.
type seenSlot struct {
	h1, h2 uint64
	next   int
}

func newSeenSet() seenSet {
	return seenSet{seed1: maphash.MakeSeed(), seed2: maphash.MakeSeed(), slots: make([]seenSlot, 1024)}
}

// claim records row as the first occurrence of addr and reports true, or
// returns the row that claimed it earlier and false.
func (s *seenSet) claim(addr string, row int) (int, bool) {
	h1, h2 := maphash.String(s.seed1, addr), maphash.String(s.seed2, addr)
	i := s.find(h1, h2)
	if sl := &s.slots[i]; sl.next != 0 {
		return sl.next - 1, false
	}
	if (s.n+1)*4 > len(s.slots)*3 {
		s.grow()
		i = s.find(h1, h2)
	}
	s.slots[i] = seenSlot{h1: h1, h2: h2, next: row + 1}
	s.n++
	return row, true
}

// find returns the slot holding the key, or the empty one where it goes.
func (s *seenSet) find(h1, h2 uint64) int {
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
