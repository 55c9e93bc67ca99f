package jsonl

import (
	"fmt"
	"hash/maphash"
	"testing"
)

// indexOf is an Index of keys, whose values are the keys' positions.
type indexOf struct {
	*Index
	keys []string
}

func (x *indexOf) is(key string) func(int32) bool {
	return func(v int32) bool { return x.keys[v] == key }
}

func (x *indexOf) add(key string) (int32, bool) {
	v, ok := x.Add(key, int32(len(x.keys)), x.is(key))
	if !ok {
		x.keys = append(x.keys, key)
	}
	return v, ok
}

func TestIndex(t *testing.T) {
	for _, tc := range []struct {
		name string
		hash func(maphash.Seed, string) uint64
		size int
	}{
		{"maphash, sized", maphash.String, 5000},
		{"maphash, growing from nothing", maphash.String, 0},
		// Every key has the same tag: each lookup walks the keys and
		// must tell them apart by is alone.
		{"one tag for all", func(maphash.Seed, string) uint64 { return 7 << 32 }, 0},
		// Tags that differ only above the slots' mask land in one run.
		{"one place, many tags", func(_ maphash.Seed, k string) uint64 { return uint64(len(k)) << 60 }, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := &indexOf{Index: NewIndex(tc.size)}
			x.hash = tc.hash
			const n = 3000
			for i := range n {
				k := fmt.Sprintf("user%d@example.com", i)
				if v, ok := x.add(k); ok || v != int32(i) {
					t.Fatalf("Add(%s) = %d, %v on first sight; want %d, false", k, v, ok, i)
				}
				if v, ok := x.add(k); !ok || v != int32(i) {
					t.Fatalf("Add(%s) again = %d, %v; want %d, true", k, v, ok, i)
				}
			}
			if x.n != n {
				t.Fatalf("%d keys counted, want %d", x.n, n)
			}
			for i := range n {
				k := fmt.Sprintf("user%d@example.com", i)
				if v, ok := x.Get(k, x.is(k)); !ok || v != int32(i) {
					t.Fatalf("Get(%s) = %d, %v; want %d, true", k, v, ok, i)
				}
			}
			for _, k := range []string{"", "user3000@example.com", "nobody@example.com"} {
				if v, ok := x.Get(k, x.is(k)); ok {
					t.Fatalf("Get(%q) = %d, true for a key never added", k, v)
				}
			}
			if full := x.n * 4; full > len(x.slots)*3 {
				t.Fatalf("%d keys in %d slots: more than 3/4 full", x.n, len(x.slots))
			}
		})
	}
}

func TestIndexNegativeValue(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Add of a negative value did not panic")
		}
	}()
	NewIndex(1).Add("a", -1, func(int32) bool { return false })
}
