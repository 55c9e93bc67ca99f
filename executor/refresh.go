package executor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/jsonl"
	"github.com/invitectl/invitectl/pkg/pace"
	"github.com/invitectl/invitectl/pkg/words"
	"github.com/invitectl/invitectl/planner"
)

// Reader is what the refresh needs of the API.
type Reader interface {
	Get(ctx context.Context, email string) (invitations.Invitation, error)
	List(ctx context.Context, opts invitations.ListOptions, page func([]invitations.Invitation) error) error
}

// RefreshConfig paces and retries the refresh's reads.
type RefreshConfig struct {
	Client  Reader
	Limiter *pace.Limiter
	Retry   pace.Policy
	// MaxInFlight caps concurrent gets; zero means 64.
	MaxInFlight int
	// Listed is the plan header's count of listed invitations by state;
	// nil when the plan predates it.
	Listed map[invitations.State]int
}

// Batch is the items a refresh reads: Len of them, the i-th built by Item,
// its address by Email (without building it). ItemList holds items in a
// slice; Run.ToRefresh returns a Todo, positions in the plan, which costs 4
// bytes an item where a slice of items costs about 180.
type Batch interface {
	Len() int
	Item(i int) planner.Item
	Email(i int) string
	// Observed is Item(i).Observed, without building the item.
	Observed(i int) (planner.Observed, bool)
}

// Todo is a Batch of a plan's items by their positions in it.
type Todo struct {
	plan *planner.Loaded
	at   []int32
}

func (t Todo) Len() int                                { return len(t.at) }
func (t Todo) Item(i int) planner.Item                 { return t.plan.Item(int(t.at[i])) }
func (t Todo) Observed(i int) (planner.Observed, bool) { return t.plan.Observed(int(t.at[i])) }
func (t Todo) Email(i int) string {
	_, email, _ := t.plan.Brief(int(t.at[i]))
	return email
}

// span is the items [from, to) of a batch.
type span struct {
	b        Batch
	from, to int
}

func (s span) Len() int                { return s.to - s.from }
func (s span) Item(i int) planner.Item { return s.b.Item(s.from + i) }
func (s span) Email(i int) string      { return s.b.Email(s.from + i) }
func (s span) Observed(i int) (planner.Observed, bool) {
	return s.b.Observed(s.from + i)
}

// Refreshed is what a refresh found, and what it cost.
type Refreshed struct {
	// Moved holds, by address, the items whose invitation moved since the
	// plan, with the state now (for Config.Moved).
	Moved map[string]string
	// How is "list" or "get"; Calls the API calls it made for Checked items.
	How     string
	Calls   int
	Checked int
}

// RefreshCost is the number of calls each way of refreshing n items costs:
// one listing of the sent invitations (one call per 200), or one get per
// item. listing is -1 when the plan does not say how many there are.
func RefreshCost(n int, listed map[invitations.State]int) (listing, gets int) {
	if listed == nil {
		return -1, n
	}
	sent := 0
	for _, st := range invitations.SentStates {
		sent += listed[st]
	}
	return max(1, (sent+invitations.MaxPageSize-1)/invitations.MaxPageSize), n
}

// Refresh reads the current state of the items about to be acted on, with
// the cheaper of one listing of the sent invitations or one get per item,
// and reports those whose invitation moved since the plan: a state,
// mailsSentCount or updateTime other than the plan observed (another
// administrator, the console, GAM or the user acted). An account the API
// cannot show (created in the last 48 hours) shows nothing either way; the
// ledger covers invitectl's own calls to it. Only an authentication failure
// or the end of ctx is returned; an item whose read fails is left alone.
func Refresh(ctx context.Context, cfg RefreshConfig, items Batch) (out Refreshed, err error) {
	out = Refreshed{Moved: map[string]string{}, Checked: items.Len()}
	if items.Len() == 0 {
		return out, nil
	}
	defer func() {
		if err != nil && ctx.Err() != nil {
			err = ErrInterrupted // nothing was called yet: resume starts afresh
		}
	}()
	// A plan that does not say how many invitations there are (an older
	// plan, or a big tenant whose listing the plan stopped early) is
	// refreshed one item at a time: the cost is then known.
	if listing, gets := RefreshCost(items.Len(), cfg.Listed); listing >= 0 && listing < gets {
		out.How = "list"
		return out, refreshByList(ctx, cfg, items, &out)
	}
	out.How = "get"
	return out, refreshByGet(ctx, cfg, items, &out)
}

func refreshByList(ctx context.Context, cfg RefreshConfig, items Batch, out *Refreshed) error {
	// The items by address, in an index that holds no pointer: a refresh
	// of half a million items must not hold half a million strings more.
	want := jsonl.NewIndex(items.Len())
	for i := range items.Len() {
		e := items.Email(i)
		want.Add(e, int32(i), func(v int32) bool { return items.Email(int(v)) == e })
	}
	seen := make([]bool, items.Len())
	// An item planned NOT_YET_SENT (or not listed) that is still
	// NOT_YET_SENT is simply absent from the sent invitations.
	opts := invitations.SentListing(cfg.Limiter, cfg.Retry, &out.Calls)
	err := cfg.Client.List(ctx, opts, func(page []invitations.Invitation) error {
		for _, inv := range page {
			i, ok := want.Get(inv.Email, func(v int32) bool { return items.Email(int(v)) == inv.Email })
			if !ok {
				continue
			}
			seen[i] = true
			var was *planner.Observed
			if o, ok := items.Observed(int(i)); ok {
				was = &o
			}
			if d, ok := movedFrom(was, &inv); ok {
				out.Moved[inv.Email] = d
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("refresh: list invitations: %w", invitations.Denied(err))
	}
	for i := range items.Len() {
		if seen[i] {
			continue
		}
		// Planned as sent, and now absent from the sent invitations.
		if o, ok := items.Observed(i); ok && o.State != invitations.StateNotYetSent {
			out.Moved[items.Email(i)] = fmt.Sprintf("no longer %s (cancelled, or the account is no longer unmanaged)", o.State)
		}
	}
	return nil
}

func refreshByGet(ctx context.Context, cfg RefreshConfig, items Batch, out *Refreshed) error {
	limit := cfg.MaxInFlight
	if limit <= 0 {
		limit = 64
	}
	window := pace.NewWindow(cfg.Limiter, limit)
	var mu sync.Mutex
	var calls atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(limit)
	for i := range items.Len() {
		it := items.Item(i)
		g.Go(func() error {
			var inv invitations.Invitation
			n, err := window.Do(gctx, cfg.Retry, invitations.ReadVerdict, func(ctx context.Context) (err error) {
				inv, err = cfg.Client.Get(ctx, it.Email)
				return err
			})
			calls.Add(int64(n))
			var d string
			var moved bool
			switch {
			case err == nil:
				d, moved = movedFrom(it.Observed, &inv)
			case invitations.IsAuth(err):
				return err
			case gctx.Err() != nil:
				return gctx.Err()
			case invitations.IsNotFound(err) && it.Observed != nil:
				d, moved = "no longer visible (the account may be managed or deleted now)", true
			}
			if moved {
				mu.Lock()
				out.Moved[it.Email] = d
				mu.Unlock()
			}
			return nil
		})
	}
	err := g.Wait()
	out.Calls = int(calls.Load())
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("refresh: %w", err)
	}
	return err
}

// movedFrom reports whether the invitation now differs from what the plan
// observed, and describes it now.
func movedFrom(obs *planner.Observed, now *invitations.Invitation) (string, bool) {
	desc := describeNow(*now)
	if obs == nil {
		// Not listed when planned: visible now, and still unsent, is no move.
		return desc, !(now.State == invitations.StateNotYetSent && now.MailsSentCount == 0)
	}
	moved := now.State != obs.State || now.MailsSentCount != obs.MailsSentCount || !now.UpdateTime.Equal(obs.UpdateTime)
	return fmt.Sprintf("planned %s with %s; %s", obs.State, words.Count(obs.MailsSentCount, "mail", "mails"), desc), moved
}

// describeNow says what an invitation read back is now, for a detail.
func describeNow(now invitations.Invitation) string {
	return fmt.Sprintf("now %s with %s, updated %s", now.State, words.Count(now.MailsSentCount, "mail", "mails"), now.UpdateTime.Format("2006-01-02T15:04:05Z"))
}
