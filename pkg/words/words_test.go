package words

import "testing"

func TestCount(t *testing.T) {
	for _, tt := range []struct {
		n    int64
		want string
	}{{0, "0 rows"}, {1, "1 row"}, {2, "2 rows"}, {-1, "-1 rows"}, {1_000_000, "1000000 rows"}} {
		if got := Count(tt.n, "row", "rows"); got != tt.want {
			t.Errorf("Count(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
	if got := Count(1, "address has", "addresses have"); got != "1 address has" {
		t.Errorf("Count(1) = %q", got)
	}
}
