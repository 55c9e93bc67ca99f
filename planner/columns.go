package planner

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/invitectl/invitectl/pkg/source"
)

// Columns are an input row's other cells, in the input's order. In the
// plan file they are one JSON object, {"Name": "Ann", "Team": "Sales"},
// whose keys keep that order (Go maps would sort them).
type Columns []source.Column

// Get returns the value of the named column, "" when the row has none.
func (c Columns) Get(name string) string {
	for _, col := range c {
		if col.Name == name {
			return col.Value
		}
	}
	return ""
}

// MarshalJSON writes the columns as one object, in order.
func (c Columns) MarshalJSON() ([]byte, error) { return c.append(nil), nil }

// UnmarshalJSON reads an object of strings, keeping the keys' order.
func (c *Columns) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		if string(bytes.TrimSpace(b)) == "null" {
			*c = nil
			return nil
		}
		return errors.New("columns: want an object of strings")
	}
	var out Columns
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return fmt.Errorf("columns: %w", err)
		}
		v, err := dec.Token()
		if err != nil {
			return fmt.Errorf("columns: %w", err)
		}
		vs, ok := v.(string)
		if !ok {
			return fmt.Errorf("columns: %q is not a string", k)
		}
		out = append(out, source.Column{Name: k.(string), Value: vs})
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return errors.New("columns: the object is not closed")
	}
	*c = out
	return nil
}
