package journal

import (
	"encoding/json"

	"github.com/invitectl/invitectl/pkg/jsonl"
)

// decoded is one record as the reading goroutines decode it, with the key of
// its item (intents and outcomes), which they compute too.
type decoded struct {
	rec Record
	key string
}

// decoder decodes records: those a Journal writes with a jsonl.Scanner, any
// other by encoding/json, which then decides as it always has. One decoder
// serves one goroutine.
type decoder struct {
	// Interned: the enumerations (types, actions, reasons, outcomes) and the
	// texts that repeat (a detail such as "state INVITED, 1 mail sent").
	enums, texts map[string]string
}

func newDecoder() *decoder {
	return &decoder{enums: map[string]string{}, texts: map[string]string{}}
}

func (d *decoder) decode(b []byte, l *decoded) error {
	r := &l.rec
	if !d.scan(b, r) {
		*r = Record{}
		if err := json.Unmarshal(b, r); err != nil {
			return err
		}
		for _, f := range []*string{&r.Type, &r.Action, &r.Reason, &r.Outcome, &r.Event} {
			*f = jsonl.Intern(d.enums, *f)
		}
		r.Message, r.Detail = jsonl.Intern(d.texts, r.Message), jsonl.Intern(d.texts, r.Detail)
	}
	l.key = keyOf(*r)
	return nil
}

// Bits of the keys a record line has had, to refuse a repeated one.
const (
	keyType = 1 << iota
	keyAt
	keyRow
	keyEmail
	keyAction
	keyReason
	keyAttempt
	keyOutcome
	keyAttempts
	keyQuotaErrors
	keyHTTPCode
	keyMessage
	keyOperation
	keyDetail
	keyNotSent
	keyEvent
	keyPID
)

// scan is the fast path of decode: it reports false for any line that is
// not exactly in the form a Journal writes, or that holds a run's counts or
// pace (left to encoding/json: there are few).
func (d *decoder) scan(b []byte, r *Record) bool {
	s := jsonl.NewScanner(b)
	seen := 0
	for s.Object(); s.Next(); {
		var bit int
		switch string(s.Key()) {
		case "type":
			bit, r.Type = keyType, jsonl.Intern(d.enums, s.Bytes())
		case "at":
			bit = keyAt
			if err := r.At.UnmarshalJSON(s.Quoted()); err != nil {
				s.Fail()
			}
		case "row":
			bit, r.Row = keyRow, int(s.Int())
		case "email":
			bit, r.Email = keyEmail, string(s.Bytes())
		case "action":
			bit, r.Action = keyAction, jsonl.Intern(d.enums, s.Bytes())
		case "reason":
			bit, r.Reason = keyReason, jsonl.Intern(d.enums, s.Bytes())
		case "attempt":
			bit, r.Attempt = keyAttempt, int(s.Int())
		case "outcome":
			bit, r.Outcome = keyOutcome, jsonl.Intern(d.enums, s.Bytes())
		case "attempts":
			bit, r.Attempts = keyAttempts, int(s.Int())
		case "quotaErrors":
			bit, r.QuotaErrors = keyQuotaErrors, int(s.Int())
		case "httpCode":
			bit, r.HTTPCode = keyHTTPCode, int(s.Int())
		case "message":
			bit, r.Message = keyMessage, jsonl.Intern(d.texts, s.Bytes())
		case "operation":
			bit, r.Operation = keyOperation, string(s.Bytes())
		case "detail":
			bit, r.Detail = keyDetail, jsonl.Intern(d.texts, s.Bytes())
		case "notSent":
			bit, r.NotSent = keyNotSent, s.Bool()
		case "event":
			bit, r.Event = keyEvent, jsonl.Intern(d.enums, s.Bytes())
		case "pid":
			bit, r.PID = keyPID, int(s.Int())
		default:
			s.Fail()
		}
		s.Once(&seen, bit)
	}
	return s.Done()
}
