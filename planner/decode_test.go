package planner

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/invitectl/invitectl/pkg/invitations"
)

// encodedItem is it as encoding/json encodes it by default, with <, > and
// & escaped, which the decoder reads as well as the plan writer's form.
func encodedItem(t *testing.T, it Item) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(it); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSpace(b.Bytes())
}

// The fast decoder takes the lines the plan writer writes and reads them
// as encoding/json does; anything else (a repeated key, a bad time, an
// unknown field or action) it leaves to encoding/json, which then reads or
// refuses it as it always has.
func TestFastItemDecoder(t *testing.T) {
	yes := true
	upd := time.Date(2026, 1, 5, 9, 0, 0, 123, time.UTC)
	items := []Item{
		{Row: 2, Email: "a@x.org", Action: ActionSend, Reason: ReasonNotYetSent,
			Observed: &Observed{State: invitations.StateNotYetSent, MailsSentCount: 2, UpdateTime: upd}, Invitable: &yes},
		{Row: 3, Email: "b@x.org", Action: ActionNone, Reason: ReasonDuplicate, FirstRow: 2, Detail: "see row 2", Error: "x",
			Columns: Columns{{Name: "dept", Value: "Sales"}, {Name: "note", Value: "=1+2"}}},
		{Row: 0, Email: "c@x.org", Action: ActionCancel, Reason: ReasonNotInInput, Observed: &Observed{State: invitations.StateInvited, UpdateTime: upd}},
	}
	d := newItemDecoder()
	for _, want := range items {
		line := encodedItem(t, want)
		var it Item
		var obs Observed
		observed, ok := d.scan(line, &it, &obs)
		if !ok || observed != (want.Observed != nil) {
			t.Errorf("fast path refused or misread %s: ok %v, observed %v", line, ok, observed)
			continue
		}
		if observed {
			it.Observed = &obs
		}
		// With obs (Load, for apply) what apply needs of the item; the
		// input's columns and the check's answer are not kept.
		lean := want
		lean.Invitable, lean.Columns = nil, nil
		if got, w := encodedItem(t, it), encodedItem(t, lean); !bytes.Equal(got, w) {
			t.Errorf("read back\n%s\nwant\n%s", got, w)
		}
		// Without (reading a plan to show it) the whole item.
		var whole Item
		if observed, ok := d.scan(line, &whole, nil); !ok || observed != (want.Observed != nil) || !bytes.Equal(encodedItem(t, whole), line) {
			t.Errorf("whole item read back as\n%s\nwant\n%s", encodedItem(t, whole), line)
		}
	}
	for _, l := range []string{
		`{"row":2,"email":"a@x.org","email":"b@x.org","action":"send","reason":"not_yet_sent","observed":null,"invitable":null}`,
		`{"row":2,"email":"a@x.org","action":"send","reason":"not_yet_sent","observed":{"state":"INVITED","state":"ACCEPTED","mailsSentCount":1,"updateTime":"2026-01-05T09:00:00Z"},"invitable":null}`,
		`{"row":2,"email":"a@x.org","action":"send","reason":"not_yet_sent","observed":{"state":"INVITED","mailsSentCount":1,"updateTime":"soon"},"invitable":null}`,
		`{"row":2,"email":"a@x.org","action":"send","reason":"not_yet_sent","observed":{"state":"INVITED","colour":"red"},"invitable":null}`,
		`{"row":2,"email":"a@x.org","action":"bogus","reason":"not_yet_sent","observed":null,"invitable":null}`,
		`{"row":2,"email":"a@x.org","action":"send","reason":"not_yet_sent","shoeSize":42}`,
	} {
		if _, ok := d.scan([]byte(l), &Item{}, &Observed{}); ok {
			t.Errorf("fast path took %s", l)
		}
	}
	// Through decode: a repeated key is read as encoding/json reads it (the
	// last wins), observed into obs when given, else into the item.
	dup := []byte(`{"row":2,"email":"a@x.org","email":"b@x.org","action":"send","reason":"not_yet_sent","observed":{"state":"INVITED","mailsSentCount":1,"updateTime":"2026-01-05T09:00:00Z"},"invitable":null}`)
	var it Item
	var obs Observed
	if observed, err := d.decode(dup, &it, &obs); err != nil || !observed || it.Email != "b@x.org" || it.Observed != nil || obs.State != invitations.StateInvited {
		t.Errorf("decode with obs: %v, %+v, %+v", err, it, obs)
	}
	it = Item{}
	if observed, err := d.decode(dup, &it, nil); err != nil || !observed || it.Observed == nil || it.Observed.State != invitations.StateInvited {
		t.Errorf("decode without obs: %v, %+v", err, it)
	}
	noObs := []byte(`{"row":2,"email":"a@x.org","email":"a@x.org","action":"send","reason":"not_yet_sent","observed":null,"invitable":null}`)
	if observed, err := d.decode(noObs, &Item{}, &obs); err != nil || observed {
		t.Errorf("decode of an item without observed: %v, observed %v", err, observed)
	}
	if _, err := d.decode([]byte(`{"row":2,"email":"a@x.org","action":"send","shoeSize":42}`), &Item{}, nil); err == nil {
		t.Error("an unknown field decoded")
	}
}
