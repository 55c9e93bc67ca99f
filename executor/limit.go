package executor

import (
	"context"
	"maps"

	"github.com/invitectl/invitectl/planner"
)

// RefreshUpTo refreshes as Refresh does, but only the items a run limited
// to n items (Config.Limit) will take up: the first n, then as many more as
// moved (those are skipped, and the run takes up later items in their
// place), and so on. A pilot of 10 items of a million-item plan costs ten
// gets, not a listing of the customer. n <= 0 refreshes every item.
func RefreshUpTo(ctx context.Context, cfg RefreshConfig, items []planner.Item, n int) (Refreshed, error) {
	if n <= 0 || n >= len(items) {
		return Refresh(ctx, cfg, items)
	}
	out := Refreshed{Moved: map[string]string{}}
	for want := n; want > 0 && len(items) > 0; {
		chunk := items[:min(want, len(items))]
		items = items[len(chunk):]
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
