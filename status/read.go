package status

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/invitectl/invitectl/executor"
	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/pace"
	"github.com/invitectl/invitectl/planner"
)

// Config paces the reads.
type Config struct {
	Client  executor.Reader
	Limiter *pace.Limiter
	Retry   pace.Policy
	// MaxInFlight caps concurrent gets; zero means 64.
	MaxInFlight int
	// LagWindow is how long after a send an invitation the API does not
	// show yet is taken as not visible yet rather than gone; zero means
	// planner.DefaultLagWindow.
	LagWindow time.Duration
	Now       func() time.Time
}

// Reads is what reading the states cost.
type Reads struct {
	// How is "list and get" or "get".
	How   string `json:"how"`
	Lists int    `json:"listCalls"`
	Gets  int    `json:"getCalls"`
	// At is when the states were read.
	At time.Time `json:"at"`
}

// Read reads the current state of every address with the cheaper of one
// listing of the sent invitations (priced by the newest plan's counts, as
// executor.RefreshCost prices a refresh), followed by a get for each address
// it does not show, or a get per address. Only an authentication failure or
// the end of ctx is returned; an address whose read fails is unknown, with
// the error in its note.
func (c *Campaign) Read(ctx context.Context, cfg Config) (Reads, error) {
	now := time.Now
	if cfg.Now != nil {
		now = cfg.Now
	}
	if cfg.LagWindow <= 0 {
		cfg.LagWindow = planner.DefaultLagWindow
	}
	c.now = now()
	reads := Reads{How: "get", At: c.now.UTC()}
	rest := c.entries
	if listing, gets := executor.RefreshCost(len(c.entries), c.Listed); listing >= 0 && listing < gets {
		reads.How = "list and get"
		var err error
		if rest, err = c.list(ctx, cfg, &reads); err != nil {
			return reads, err
		}
	}
	err := c.get(ctx, cfg, rest, &reads)
	c.reads = reads
	return reads, err
}

// list reads the sent invitations and returns the entries it did not show.
func (c *Campaign) list(ctx context.Context, cfg Config, reads *Reads) ([]*entry, error) {
	seen := make(map[*entry]bool, len(c.entries))
	// An address the listing does not show is NOT_YET_SENT, gone or not
	// visible yet, which a get tells apart.
	opts := invitations.SentListing(cfg.Limiter, cfg.Retry, &reads.Lists)
	err := cfg.Client.List(ctx, opts, func(page []invitations.Invitation) error {
		for _, inv := range page {
			if e := c.byEmail[inv.Email]; e != nil {
				seen[e] = true
				e.found(inv)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list invitations: %w", err)
	}
	var rest []*entry
	for _, e := range c.entries {
		if !seen[e] {
			rest = append(rest, e)
		}
	}
	return rest, nil
}

// get reads each entry on its own.
func (c *Campaign) get(ctx context.Context, cfg Config, entries []*entry, reads *Reads) error {
	limit := cfg.MaxInFlight
	if limit <= 0 {
		limit = 64
	}
	window := pace.NewWindow(cfg.Limiter, limit)
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(limit)
	for _, e := range entries {
		g.Go(func() error {
			var inv invitations.Invitation
			n, err := window.Do(gctx, cfg.Retry, invitations.ReadVerdict, func(ctx context.Context) (err error) {
				inv, err = cfg.Client.Get(ctx, e.email)
				return err
			})
			mu.Lock()
			reads.Gets += n
			mu.Unlock()
			switch {
			case err == nil:
				e.found(inv)
			case invitations.IsAuth(err):
				return err
			case gctx.Err() != nil:
				return gctx.Err()
			case invitations.IsNotFound(err):
				e.absent(c.now, cfg.LagWindow)
			default:
				e.state, e.note = Unknown, "the read failed: "+err.Error()
			}
			return nil
		})
	}
	err := g.Wait()
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("read the invitations: %w", err)
	}
	return err
}

// found records the invitation as the API shows it now.
func (e *entry) found(inv invitations.Invitation) {
	e.mails, e.updated = inv.MailsSentCount, inv.UpdateTime
	switch inv.State {
	case invitations.StateAccepted:
		e.state = Accepted
	case invitations.StateDeclined:
		e.state = Declined
	case invitations.StateInvited:
		e.state = Invited
	default:
		e.state = NotYetSent
	}
}

// absent records that the API shows no invitation: gone when it showed one
// when planning, or when the campaign's send is older than the lag window;
// else not visible yet.
func (e *entry) absent(now time.Time, lag time.Duration) {
	switch {
	case e.listed, e.sent() && now.Sub(e.at) >= lag:
		e.state, e.note = Gone, "the API no longer shows it: managed now, renamed or deleted"
	default:
		e.state, e.note = Unknown, "not visible yet: the API hides accounts created in the last 48 hours, and new invitations may lag"
	}
}
