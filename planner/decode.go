package planner

import (
	"bytes"
	"encoding/json"

	"github.com/invitectl/invitectl/pkg/invitations"
	"github.com/invitectl/invitectl/pkg/jsonl"
	"github.com/invitectl/invitectl/pkg/source"
)

// itemDecoder decodes plan lines: those FileWriter writes with a
// jsonl.Scanner, any other by encoding/json, which then decides as it always
// has (unknown fields refused). One decoder serves one goroutine.
type itemDecoder struct {
	reasons map[string]string // interned: a plan has a few dozen
}

func newItemDecoder() *itemDecoder { return &itemDecoder{reasons: map[string]string{}} }

// decode decodes line into it. With obs nil, it is the item as the file
// says. With obs set, it is what apply keeps (see Load): the observed
// invitation goes to *obs, not a new Observed (observed reports whether
// there was one), and the columns and the isInvitableUser answer are only
// checked.
func (d *itemDecoder) decode(line []byte, it *Item, obs *Observed) (observed bool, err error) {
	if observed, ok := d.scan(line, it, obs); ok {
		return observed, nil
	}
	*it = Item{}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(it); err != nil {
		return false, err
	}
	if obs == nil || it.Observed == nil {
		return it.Observed != nil, nil
	}
	*obs = *it.Observed
	it.Observed, it.Columns, it.Invitable = nil, nil, nil
	return true, nil
}

// Bits of the keys an item line has had, to refuse a repeated one (which
// encoding/json would merge).
const (
	keyRow = 1 << iota
	keyEmail
	keyAction
	keyReason
	keyObserved
	keyInvitable
	keyError
	keyDetail
	keyFirstRow
	keyColumns
)

// scan is the fast path of decode: it reports false for any line that is
// not exactly in the form FileWriter writes.
func (d *itemDecoder) scan(line []byte, it *Item, obs *Observed) (observed, ok bool) {
	s := jsonl.NewScanner(line)
	seen := 0
	for s.Object(); s.Next(); {
		var bit int
		switch string(s.Key()) {
		case "row":
			bit, it.Row = keyRow, int(s.Int())
		case "email":
			bit, it.Email = keyEmail, string(s.Bytes())
		case "action":
			bit, it.Action = keyAction, action(s.Bytes())
			if it.Action == "" {
				s.Fail()
			}
		case "reason":
			bit, it.Reason = keyReason, jsonl.Intern(d.reasons, s.Bytes())
		case "observed":
			bit = keyObserved
			if s.Null() {
				break
			}
			o := obs
			if o == nil {
				it.Observed = new(Observed)
				o = it.Observed
			}
			scanObserved(&s, o)
			observed = true
		case "invitable":
			bit = keyInvitable
			if !s.Null() {
				if v := s.Bool(); obs == nil {
					it.Invitable = &v
				}
			}
		case "error":
			bit, it.Error = keyError, string(s.Bytes())
		case "detail":
			bit, it.Detail = keyDetail, string(s.Bytes())
		case "firstRow":
			bit, it.FirstRow = keyFirstRow, int(s.Int())
		case "columns":
			bit = keyColumns
			if !s.Null() {
				scanColumns(&s, it, obs == nil)
			}
		default:
			s.Fail()
		}
		s.Once(&seen, bit)
	}
	return observed, s.Done()
}

func scanObserved(s *jsonl.Scanner, o *Observed) {
	seen := 0
	for s.Object(); s.Next(); {
		var bit int
		switch string(s.Key()) {
		case "state":
			bit, o.State = 1, state(s.Bytes())
		case "mailsSentCount":
			bit, o.MailsSentCount = 2, s.Int()
		case "updateTime":
			bit = 4
			if err := o.UpdateTime.UnmarshalJSON(s.Quoted()); err != nil {
				s.Fail()
			}
		default:
			s.Fail()
		}
		s.Once(&seen, bit)
	}
}

// scanColumns reads the columns' object of strings, keeping them when keep
// is set.
func scanColumns(s *jsonl.Scanner, it *Item, keep bool) {
	for s.Object(); s.Next(); {
		name := s.Key()
		value := s.Bytes()
		if keep {
			it.Columns = append(it.Columns, source.Column{Name: string(name), Value: string(value)})
		}
	}
}

// action returns the action b names, "" for none of them.
func action(b []byte) Action {
	for _, a := range [...]Action{ActionSend, ActionNone, ActionCancel} {
		if string(b) == string(a) {
			return a
		}
	}
	return ""
}

// state returns the state b names, without allocating for the four states
// the API has.
func state(b []byte) invitations.State {
	for _, s := range [...]invitations.State{invitations.StateNotYetSent, invitations.StateInvited, invitations.StateAccepted, invitations.StateDeclined} {
		if string(b) == string(s) {
			return s
		}
	}
	return invitations.State(b)
}
