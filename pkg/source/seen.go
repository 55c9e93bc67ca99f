package source

import "hash/maphash"

// seenSet maps each address claimed so far to the row that claimed it. It
// is the only state that grows with the input, so it keys on a 128-bit hash
// of the address (two independent 64-bit maphash values under random seeds)
// rather than on the string: the map then holds no pointers for the garbage
// collector to scan on every cycle and no copy of the addresses. Two of a
// million addresses share a key with a probability near 10^-27.
type seenSet struct {
	seed1, seed2 maphash.Seed
	rows         map[[2]uint64]int
}

func newSeenSet() seenSet {
	return seenSet{seed1: maphash.MakeSeed(), seed2: maphash.MakeSeed(), rows: make(map[[2]uint64]int)}
}

// claim records row as the first occurrence of addr and reports true, or
// returns the row that claimed it earlier and false.
func (s seenSet) claim(addr string, row int) (int, bool) {
	k := [2]uint64{maphash.String(s.seed1, addr), maphash.String(s.seed2, addr)}
	if first, ok := s.rows[k]; ok {
		return first, false
	}
	s.rows[k] = row
	return row, true
}
