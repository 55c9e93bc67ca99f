package planner

import (
	"bytes"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/invitectl/invitectl/pkg/invitations"
)

// index is the listing of every invitation, kept until the plan is written.
// A customer may have millions of invitations, so the index holds no
// pointers for the garbage collector to follow: the addresses end to end in
// one arena, and per invitation a 32-byte entry with the address's place in
// the arena, the state as a code into states, the update time in Unix
// seconds and nanoseconds. Once listing is done the entries are sorted by
// address (the API lists in that order, so normally nothing moves) and
// looked up by binary search. An invitation that this form would not give
// back exactly (a time zone other than UTC, a very long address, too many
// unknown states) is kept whole instead, so lookups always return what was
// listed.
type index struct {
	arena   []byte
	entries []entry
	whole   []invitations.Invitation
	states  []invitations.State // the API's states, then any other listed
	last    string              // the address added last
	sorted  bool                // entries were added in strictly increasing order
	// complete: every invitation was listed; otherwise an address absent
	// from the index may still exist.
	complete bool
}

// entry is one listed invitation.
type entry struct {
	mails int64
	sec   int64
	off   uint32 // into arena, or into whole for a whole entry
	nsec  int32
	n     uint16 // address length in arena
	state uint8
	flags uint8
}

const (
	entryNamed = 1 << iota // the input names the address
	entryWhole             // the invitation is in whole[off]
)

func newIndex() *index {
	return &index{states: slices.Clone(invitations.States), sorted: true}
}

// add indexes one listed invitation. When an address is listed twice, the
// later listing wins.
func (x *index) add(inv invitations.Invitation) {
	e := entry{mails: inv.MailsSentCount, sec: inv.UpdateTime.Unix(), nsec: int32(inv.UpdateTime.Nanosecond())}
	code, ok := x.code(inv.State)
	e.state = code
	if ok && len(inv.Email) <= math.MaxUint16 && len(x.arena)+len(inv.Email) <= math.MaxUint32 &&
		time.Unix(e.sec, int64(e.nsec)).UTC() == inv.UpdateTime {
		e.off, e.n = uint32(len(x.arena)), uint16(len(inv.Email))
		x.arena = append(x.arena, inv.Email...)
	} else {
		e.off, e.flags = uint32(len(x.whole)), entryWhole
		x.whole = append(x.whole, inv)
	}
	if len(x.entries) > 0 && inv.Email <= x.last {
		x.sorted = false
	}
	x.last = inv.Email
	x.entries = append(x.entries, e)
}

// code is the state's code, or false when there are too many states.
func (x *index) code(st invitations.State) (uint8, bool) {
	if i := slices.Index(x.states, st); i >= 0 {
		return uint8(i), true
	}
	if len(x.states) > math.MaxUint8 {
		return 0, false
	}
	x.states = append(x.states, st)
	return uint8(len(x.states) - 1), true
}

// finish sorts the entries by address, keeping the last listing of each,
// and drops what only adding needed. Lookups come after it.
func (x *index) finish() {
	x.last = ""
	if x.sorted {
		return
	}
	slices.SortStableFunc(x.entries, func(a, b entry) int { return bytes.Compare(x.key(&a), x.key(&b)) })
	out := x.entries[:0]
	for i := range x.entries {
		if i+1 < len(x.entries) && bytes.Equal(x.key(&x.entries[i]), x.key(&x.entries[i+1])) {
			continue
		}
		out = append(out, x.entries[i])
	}
	x.entries = out
	x.sorted = true
}

// key is an entry's address.
func (x *index) key(e *entry) []byte {
	if e.flags&entryWhole != 0 {
		return []byte(x.whole[e.off].Email)
	}
	return x.arena[e.off : e.off+uint32(e.n)]
}

// compare orders an entry's address against email without allocating.
func (x *index) compare(e *entry, email string) int {
	if e.flags&entryWhole != 0 {
		return cmpString(x.whole[e.off].Email, email)
	}
	k := x.arena[e.off : e.off+uint32(e.n)]
	switch {
	case string(k) < email:
		return -1
	case string(k) == email:
		return 0
	}
	return 1
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a == b:
		return 0
	}
	return 1
}

// lookup returns the entry of an address, or nil.
func (x *index) lookup(email string) *entry {
	i := sort.Search(len(x.entries), func(i int) bool { return x.compare(&x.entries[i], email) >= 0 })
	if i < len(x.entries) && x.compare(&x.entries[i], email) == 0 {
		return &x.entries[i]
	}
	return nil
}

// expand gives back the invitation an entry holds; email is its address.
func (x *index) expand(email string, e *entry) invitations.Invitation {
	if e.flags&entryWhole != 0 {
		return x.whole[e.off]
	}
	return invitations.Invitation{
		Email:          email,
		State:          x.states[e.state],
		MailsSentCount: e.mails,
		UpdateTime:     time.Unix(e.sec, int64(e.nsec)).UTC(),
	}
}

// each calls fn with every entry whose state is st, in address order.
func (x *index) each(st invitations.State, fn func(email string, e *entry)) {
	for i := range x.entries {
		e := &x.entries[i]
		if e.flags&entryWhole != 0 {
			if inv := x.whole[e.off]; inv.State == st {
				fn(inv.Email, e)
			}
		} else if x.states[e.state] == st {
			fn(string(x.key(e)), e)
		}
	}
}

// counts is the number of listed invitations by state.
func (x *index) counts() map[invitations.State]int {
	n := map[invitations.State]int{}
	for i := range x.entries {
		e := &x.entries[i]
		if e.flags&entryWhole != 0 {
			n[x.whole[e.off].State]++
		} else {
			n[x.states[e.state]]++
		}
	}
	return n
}
