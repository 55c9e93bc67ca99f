package executor

import (
	"context"
	"maps"
)

// RefreshUpTo refreshes as Refresh does, but only the items a run limited
// to n items (Config.Limit) will take up: the first n, then as many more as
// moved (those are skipped, and the run takes up later items in their
// place), and so on. A pilot of 10 items of a million-item plan costs ten
// gets, not a listing of the customer. n <= 0 refreshes every item.
func RefreshUpTo(ctx context.Context, cfg RefreshConfig, items Batch, n int) (Refreshed, error) {
	if n <= 0 || n >= items.Len() {
		return Refresh(ctx, cfg, items)
	}
	out := Refreshed{Moved: map[string]string{}}
	for from, want := 0, n; want > 0 && from < items.Len(); {
		chunk := span{items, from, min(from+want, items.Len())}
		from = chunk.to
		ref, err := Refresh(ctx, cfg, chunk)
		out.Calls += ref.Calls
		out.Checked += ref.Checked
		switch {
		case out.How == "":
			out.How = ref.How
		case out.How != ref.How:
			out.How += " and " + ref.How
		}
		maps.Copy(out.Moved, ref.Moved)
		if err != nil {
			return out, err
		}
		want = len(ref.Moved)
	}
	return out, nil
}
