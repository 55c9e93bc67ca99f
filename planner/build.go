package planner

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/ledger"
	"github.com/invitectl/invitectl/pkg/pace"
	"github.com/invitectl/invitectl/pkg/source"
)

// Reader is what planning needs of the API: it never sends or cancels.
type Reader interface {
	IsInvitable(ctx context.Context, email string) (bool, error)
	Get(ctx context.Context, email string) (invitations.Invitation, error)
	// List passes each page in a slice of its own, which page may keep
	// (planning indexes it on another goroutine), as invitations.Adapter
	// does.
	List(ctx context.Context, opts invitations.ListOptions, page func([]invitations.Invitation) error) error
}

// Targets streams the campaign's targets in input order.
type Targets func(fn func(source.Target) error) (source.Info, error)

// Config is everything Build needs besides the input.
type Config struct {
	Client     Reader
	Customer   string
	APIVersion string
	Policy     Policy
	// Limiter paces every read of the run; nil is unlimited.
	Limiter *pace.Limiter
	// Rows is the number of input rows, when known: the listing then stops
	// after Rows/2 pages, and the rows it has not shown are read one by one
	// with get, so a small campaign in a big tenant costs about one read per
	// row instead of one per 200 invitations of the tenant. Zero lists all.
	Rows int
	// MaxInFlight caps concurrent checks; the window sizes itself below it
	// from the rate and the observed latency. Zero means 256.
	MaxInFlight int
	Retry       pace.Policy
	Now         func() time.Time

	// Ledger, when set, is the customer's ledger: an address invitectl
	// emailed or cancelled within LagWindow that the listing does not show
	// yet becomes none/recently_sent (recently_cancelled), and one with a
	// call still pending none/in_flight. It is read after the listing.
	Ledger    Ledger
	LagWindow time.Duration
	// Judge tells one address's refused check (403, 404, 400 while other
	// calls succeed: none/check_refused) from a credential failure, which
	// stops the plan; nil treats a bare 403 as a credential failure.
	Judge *invitations.Judge
	// Checks, when set, keeps every answer paid for and gives back those an
	// interrupted plan of the same input already got (see Checks).
	Checks *Checks
}

// Ledger is what planning reads of the customer's ledger.
type Ledger interface {
	Refresh() error
	Latest(email string) (ledger.Call, bool)
}

// DefaultLagWindow is how long after invitectl's own send the listing is
// assumed not to show it: Google documents 48 hours for new accounts and
// nothing for new invitations; sources give 24 h, 48 h and 48–72 h.
const DefaultLagWindow = 72 * time.Hour

// listingSkew is how much older than invitectl's intent the listed update
// time may be and still reflect the call: clocks disagree by seconds.
const listingSkew = time.Minute

// Stats are the counters of a running Build, for progress lines.
type Stats struct {
	Listed  atomic.Int64 // invitations listed
	Gets    atomic.Int64 // per-address reads, once the listing stopped
	Rows    atomic.Int64 // input rows decided
	Checks  atomic.Int64 // isInvitableUser calls finished
	Failed  atomic.Int64 // checks that failed after retries
	Refused atomic.Int64 // checks the API refused for that address alone
	Reused  atomic.Int64 // answers taken from the planning journal
}

// slot is an item on its way to the plan, in input order; done closes when
// its check has finished.
type slot struct {
	item  Item
	email string
	inv   *invitations.Invitation // nil, or &listing when listed
	want  Wanted
	done  chan struct{}
	// get: the listing stopped early without showing the address, so it is
	// read with get before any check.
	get bool

	listing invitations.Invitation
}

var closed = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// Build lists the invitations, reads the targets, checks what the listing
// cannot decide, and emits one item per input row (then the pruned
// invitations) in order. It returns the plan's header. An authentication
// failure aborts it; a check that keeps failing becomes a check_failed item.
func Build(ctx context.Context, cfg Config, targets Targets, stats *Stats, emit func(Item) error) (Header, error) {
	if stats == nil {
		stats = new(Stats)
	}
	now := time.Now
	if cfg.Now != nil {
		now = cfg.Now
	}
	if cfg.Policy.Action == "" {
		cfg.Policy.Action = WantInvite
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 256
	}
	hdr := Header{
		Kind: Kind, Version: Version, Customer: cfg.Customer, APIVersion: cfg.APIVersion,
		CreatedAt: now().UTC(), Policy: cfg.Policy, Summary: Summary{Reasons: map[string]int{}},
	}

	listed, err := listAll(ctx, cfg, stats)
	if err != nil {
		return hdr, err
	}
	if listed.complete {
		hdr.Listed = listed.counts()
	} else {
		hdr.ListingStopped = int(stats.Listed.Load())
	}
	if cfg.Ledger != nil {
		if cfg.LagWindow <= 0 {
			cfg.LagWindow = DefaultLagWindow
		}
		hdr.LagWindow = Duration(cfg.LagWindow)
		if err := cfg.Ledger.Refresh(); err != nil {
			return hdr, err
		}
	}

	// Any failure (a check's auth error, a failed emit) cancels the run.
	// errgroup.WithContext is not used: its context also ends when Wait
	// returns, while the writer may still be draining.
	gctx, abort := context.WithCancelCause(ctx)
	defer abort(nil)
	var g errgroup.Group
	window := pace.NewWindow(cfg.Limiter, cfg.MaxInFlight)
	ordered := make(chan *slot, 4*cfg.MaxInFlight)
	checks := make(chan *slot)

	for range cfg.MaxInFlight {
		g.Go(func() error {
			for s := range checks {
				if err := check(gctx, cfg, window, s, stats); err != nil {
					abort(err)
					return err
				}
				stats.Checks.Add(1)
				close(s.done)
			}
			return nil
		})
	}

	var emitErr error
	var writer sync.WaitGroup
	writer.Add(1)
	go func() {
		defer writer.Done()
		for s := range ordered {
			select {
			case <-s.done:
			case <-gctx.Done():
				continue // drain; the error is reported by the group
			}
			if emitErr != nil {
				continue
			}
			s.decide(cfg, hdr.CreatedAt)
			hdr.Summary.Add(s.item)
			stats.Rows.Add(1)
			if emitErr = emit(s.item); emitErr != nil {
				abort(emitErr)
			}
		}
	}()

	info, srcErr := targets(func(t source.Target) error {
		s := newSlot(t, cfg.Policy, listed)
		if s.done == nil {
			s.done = make(chan struct{})
			select {
			case ordered <- s:
			case <-gctx.Done():
				return gctx.Err()
			}
			select {
			case checks <- s:
			case <-gctx.Done():
				return gctx.Err()
			}
			return nil
		}
		select {
		case ordered <- s:
			return nil
		case <-gctx.Done():
			return gctx.Err()
		}
	})
	close(checks)
	groupErr := g.Wait()
	close(ordered)
	writer.Wait()

	switch {
	case emitErr != nil:
		return hdr, emitErr
	case groupErr != nil:
		// The first failure, not a worker's report of the cancellation it caused.
		if cause := context.Cause(gctx); cause != nil && !errors.Is(cause, context.Canceled) {
			return hdr, cause
		}
		return hdr, groupErr
	case srcErr != nil:
		return hdr, srcErr
	case ctx.Err() != nil:
		return hdr, ctx.Err()
	}
	hdr.Source = Source{Path: info.Path, SHA256: info.SHA256, Rows: info.Rows, Format: info.Format}
	hdr.Columns = info.Columns

	if cfg.Policy.Prune && cfg.Policy.Action == WantInvite {
		for _, it := range pruned(listed) {
			hdr.Summary.Add(it)
			if err := emit(it); err != nil {
				return hdr, err
			}
		}
	}
	return hdr, nil
}

// errBudget stops a listing that costs more than reading the rows one by one.
var errBudget = errors.New("listing budget spent")

// listAll lists every invitation once, each page paced and retried, or, when
// cfg.Rows is set, stops after Rows/2 pages (x.complete is then false).
func listAll(ctx context.Context, cfg Config, stats *Stats) (*index, error) {
	x := newIndex()
	budget := -1
	if cfg.Rows > 0 && !cfg.Policy.Prune {
		budget = max(1, (cfg.Rows+1)/2)
	}
	pages := 0
	opts := invitations.ListOptions{
		PageSize: invitations.MaxPageSize,
		Pace:     invitations.PacedReads(cfg.Limiter, cfg.Retry),
	}
	// Pages are indexed on their own goroutine while the next one is
	// fetched: the listing is the one part of planning that runs a page
	// at a time.
	pageCh, indexed := make(chan []invitations.Invitation, 8), make(chan struct{})
	go func() {
		defer close(indexed)
		for page := range pageCh {
			for _, inv := range page {
				x.add(inv)
			}
		}
	}()
	err := cfg.Client.List(ctx, opts, func(page []invitations.Invitation) error {
		pageCh <- page
		stats.Listed.Add(int64(len(page)))
		if pages++; pages == budget {
			return errBudget
		}
		return nil
	})
	close(pageCh)
	<-indexed
	x.complete = err == nil
	if err != nil && !errors.Is(err, errBudget) {
		return nil, fmt.Errorf("list invitations: %w", invitations.Denied(err))
	}
	x.finish()
	return x, nil
}

// newSlot decides what the source already decided and looks the address up
// in the listing; done stays nil when a check is needed.
func newSlot(t source.Target, p Policy, x *index) *slot {
	// Detail says why a row is invalid, or what cleaning its cell removed.
	s := &slot{item: Item{Row: t.Row, Email: t.Email, Detail: t.Detail, Columns: t.Columns}, email: t.Email, done: closed}
	switch t.Reason {
	case "":
	case source.ReasonDuplicate:
		s.item.Action, s.item.Reason, s.item.FirstRow = ActionNone, ReasonDuplicate, t.FirstRow
		return s
	default:
		s.item.Action, s.item.Reason = ActionNone, t.Reason
		return s
	}
	switch t.Action {
	case source.ActionNone:
		s.item.Action, s.item.Reason = ActionNone, ReasonNoAction
		return s
	case source.ActionInvite:
		s.want = WantInvite
		if t.Resend {
			s.want = WantResend
		}
	case source.ActionCancel:
		s.want = WantCancel
	default:
		s.want = p.Action
	}
	if e := x.lookup(t.Email); e != nil {
		e.flags |= entryNamed
		s.listing = x.expand(t.Email, e)
		s.inv = &s.listing
		s.item.Observed = observe(s.inv)
	} else if !x.complete {
		s.get = true // the listing stopped before it: read it alone
		s.done = nil
	}
	if needsCheck(p, s.want, s.inv) {
		s.done = nil
	}
	return s
}

// decide fills in the action once any check has answered.
func (s *slot) decide(cfg Config, now time.Time) {
	if s.want == "" || s.item.Reason == ReasonCheckFailed || s.item.Reason == ReasonCheckRefused {
		return
	}
	s.item.Action, s.item.Reason = Decide(cfg.Policy, s.want, s.inv, s.item.Invitable, now)
	if s.item.Action != ActionNone && cfg.Ledger != nil {
		if c, ok := cfg.Ledger.Latest(s.email); ok {
			s.ledger(c, now.Add(-cfg.LagWindow))
		}
	}
	if s.item.Reason == ReasonUnlistedInvitable {
		s.note("the API cannot show whether someone else invited this account already (accounts created in the last 48 hours are not listed)")
	}
}

// ledger overrides an acting decision with what invitectl itself did lately
// that the listing may not show yet.
func (s *slot) ledger(c ledger.Call, since time.Time) {
	switch {
	case c.Effect == ledger.Pending:
		s.item.Action, s.item.Reason = ActionNone, ReasonInFlight
		next := ""
		if c.Source.Journal != "" {
			next = ": resume it (invitectl resume " + c.Source.Journal + ")"
		}
		s.note(fmt.Sprintf("%s has a %s with no outcome since %s%s", c.Source.Describe(), c.Action, c.At.Format(time.RFC3339), next))
	case c.At.Before(since):
	case s.item.Reason == ReasonResendRequested && c.Action == ledger.Send:
		// The export's Yes asks for one more email, not one per plan: a
		// send invitectl made lately has answered it, even though the
		// listing shows it (the same export planned again).
		s.item.Action, s.item.Reason = ActionNone, ReasonRecentlySent
		s.note(fmt.Sprintf("invitectl sent to it at %s (%s): the export's re-send request counts as done; plan again after --lag-window, or 'invitectl send --force'", c.At.Format(time.RFC3339), c.Source.Describe()))
	case s.inv != nil && !s.inv.UpdateTime.Before(c.At.Add(-listingSkew)):
		// The listing already shows the call (or something after it).
	default:
		s.item.Action, s.item.Reason = ActionNone, ReasonRecentlySent
		if c.Action == ledger.Cancel {
			s.item.Reason = ReasonRecentlyCancelled
		}
		by := c.Source.Describe()
		if c.Source.Plan != "" {
			by = "plan " + c.Source.Plan + ", " + by
		}
		s.note(fmt.Sprintf("invitectl made a %s at %s (%s; %s) that the API does not show yet", c.Action, c.At.Format(time.RFC3339), by, c.Effect))
	}
}

// note adds to the item's detail.
func (s *slot) note(n string) {
	if s.item.Detail != "" {
		s.item.Detail += "; "
	}
	s.item.Detail += n
}

// check reads the slot's invitation when the listing did not, then asks
// isInvitableUser when the listing cannot decide. Only an authentication
// failure (or the end of the run) is returned; other failures mark the item.
func check(ctx context.Context, cfg Config, w *pace.Window, s *slot, stats *Stats) error {
	known, _ := cfg.Checks.lookup(s.email)
	if s.get {
		switch {
		case known.Got != nil:
			stats.Reused.Add(1)
			s.listing = *known.invitation(s.email)
			s.inv = &s.listing
			s.item.Observed = observe(s.inv)
		case known.NotFound:
			stats.Reused.Add(1)
		default:
			var inv invitations.Invitation
			_, err := w.Do(ctx, cfg.Retry, invitations.ReadVerdict, func(ctx context.Context) (err error) {
				inv, err = cfg.Client.Get(ctx, s.email)
				return err
			})
			stats.Gets.Add(1)
			switch {
			case err == nil:
				s.listing = inv
				s.inv = &s.listing
				s.item.Observed = observe(s.inv)
				cfg.Checks.record(answer{Email: s.email, Got: s.item.Observed})
			case invitations.IsNotFound(err): // not listed
				cfg.Checks.record(answer{Email: s.email, NotFound: true})
			default:
				return s.failed(ctx, cfg, "get", err, stats)
			}
		}
		if !needsCheck(cfg.Policy, s.want, s.inv) {
			return nil
		}
	}
	if known.Invitable != nil {
		stats.Reused.Add(1)
		s.item.Invitable = known.Invitable
		return nil
	}
	var ok bool
	_, err := w.Do(ctx, cfg.Retry, invitations.ReadVerdict, func(ctx context.Context) (err error) {
		ok, err = cfg.Client.IsInvitable(ctx, s.email)
		return err
	})
	if err == nil {
		s.item.Invitable = &ok
		cfg.Checks.record(answer{Email: s.email, Invitable: &ok})
		return nil
	}
	return s.failed(ctx, cfg, "isInvitableUser", err, stats)
}

// failed marks the item after a read that failed for good: check_refused
// when the API refused this address alone, check_failed when it may pass
// later. It returns the error when the plan must stop instead (credentials,
// a spent daily quota, the end of the run).
func (s *slot) failed(ctx context.Context, cfg Config, method string, err error, stats *Stats) error {
	if cfg.Judge != nil {
		err = cfg.Judge.Judge(ctx, err)
	}
	switch {
	case invitations.IsRefusal(err),
		cfg.Judge == nil && (invitations.IsNotFound(err) || invitations.KindOf(err) == invitations.KindInvalid):
		s.item.Action, s.item.Reason, s.item.Error = ActionNone, ReasonCheckRefused, refusal(method, err)
		stats.Refused.Add(1)
	case invitations.IsAuth(err), invitations.IsDenied(err), errors.As(err, new(*pace.DailyQuotaError)):
		return err
	case ctx.Err() != nil:
		return ctx.Err()
	default:
		s.item.Action, s.item.Reason, s.item.Error = ActionNone, ReasonCheckFailed, err.Error()
		stats.Failed.Add(1)
	}
	return nil
}

// refusal is the API's status and message for a refused address.
func refusal(method string, err error) string {
	var e *invitations.Error
	if errors.As(err, &e) {
		return fmt.Sprintf("%s: HTTP %d %s: %s", method, e.HTTPCode, e.Status, e.Message)
	}
	return err.Error()
}

// pruned lists the sent invitations the input did not name, by address.
func pruned(x *index) []Item {
	var items []Item
	x.each(invitations.StateInvited, func(email string, e *entry) {
		if e.flags&entryNamed == 0 {
			inv := x.expand(email, e)
			items = append(items, Item{Email: email, Action: ActionCancel, Reason: ReasonNotInInput, Observed: observe(&inv)})
		}
	})
	sort.Slice(items, func(i, j int) bool { return items[i].Email < items[j].Email })
	return items
}
