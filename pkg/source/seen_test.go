package source

import (
	"fmt"
	"testing"
)

// Claims across the table's growth: every address keeps its first row.
func TestSeenSet(t *testing.T) {
	s := newSeenSet()
	const n = 5000 // several doublings of the table
	for i := range n {
		if row, ok := s.claim(fmt.Sprintf("user%d@example.com", i), i+2); !ok || row != i+2 {
			t.Fatalf("first claim of user%d = %d, %v", i, row, ok)
		}
	}
	for i := range n {
		if row, ok := s.claim(fmt.Sprintf("user%d@example.com", i), n+i+2); ok || row != i+2 {
			t.Fatalf("second claim of user%d = %d, %v; want its first row %d, false", i, row, ok, i+2)
		}
	}
	if s.n != n || s.n*4 > len(s.slots)*3 {
		t.Fatalf("%d claims in %d slots, want %d at most 3/4 full", s.n, len(s.slots), n)
	}
	if row, ok := s.claim("row0@example.com", 0); !ok || row != 0 {
		t.Fatalf("a claim at row 0 = %d, %v", row, ok)
	}
	if row, ok := s.claim("row0@example.com", 9); ok || row != 0 {
		t.Fatalf("row 0's address again = %d, %v; want 0, false", row, ok)
	}
}
