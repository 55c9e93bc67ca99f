package planner

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// appendItem appends it as one line of JSON, byte for byte what a
// json.Encoder with SetEscapeHTML(false) writes, without reflection: the
// Encoder spent a tenth of a million-row plan's CPU on its items. An error
// (an update time the Encoder refuses: a year outside 0 to 9999, an offset
// of a day or more) leaves the caller to the Encoder, which reports it as
// it always has.
func appendItem(b []byte, it *Item) ([]byte, error) {
	b = append(b, `{"row":`...)
	b = strconv.AppendInt(b, int64(it.Row), 10)
	b = append(b, `,"email":`...)
	b = appendString(b, it.Email)
	b = append(b, `,"action":`...)
	b = appendString(b, string(it.Action))
	b = append(b, `,"reason":`...)
	b = appendString(b, it.Reason)
	b = append(b, `,"observed":`...)
	if o := it.Observed; o == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"state":`...)
		b = appendString(b, string(o.State))
		b = append(b, `,"mailsSentCount":`...)
		b = strconv.AppendInt(b, o.MailsSentCount, 10)
		b = append(b, `,"updateTime":"`...)
		var err error
		if b, err = o.UpdateTime.AppendText(b); err != nil {
			return nil, err
		}
		b = append(b, `"}`...)
	}
	b = append(b, `,"invitable":`...)
	switch {
	case it.Invitable == nil:
		b = append(b, "null"...)
	default:
		b = strconv.AppendBool(b, *it.Invitable)
	}
	if it.Error != "" {
		b = append(b, `,"error":`...)
		b = appendString(b, it.Error)
	}
	if it.Detail != "" {
		b = append(b, `,"detail":`...)
		b = appendString(b, it.Detail)
	}
	if it.FirstRow != 0 {
		b = append(b, `,"firstRow":`...)
		b = strconv.AppendInt(b, int64(it.FirstRow), 10)
	}
	if len(it.Columns) > 0 {
		b = append(b, `,"columns":`...)
		b = it.Columns.append(b)
	}
	return append(b, "}\n"...), nil
}

// append appends the columns as one object, in order.
func (c Columns) append(b []byte) []byte {
	b = append(b, '{')
	for i, col := range c {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, col.Name)
		b = append(b, ':')
		b = appendString(b, col.Value)
	}
	return append(b, '}')
}

// appendString appends s quoted as a json.Encoder with SetEscapeHTML(false)
// quotes it. Printable ASCII other than the quote and the backslash stands
// for itself; anything else (control characters, invalid UTF-8, U+2028) is
// left to the Encoder itself, which is rare enough to cost nothing.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(s) // a string always encodes
			return append(b, bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
