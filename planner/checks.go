package planner

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/invitectl/invitectl/pkg/atomicfile"
	"github.com/invitectl/invitectl/pkg/invitations"
)

// ChecksKind identifies a planning journal.
const ChecksKind = "invitectl/planning"

// Checks is the planning journal: the per-address answers (isInvitableUser,
// get) that planning has paid for, kept beside the plan while it is made so
// that an interrupted plan of a large input loses none of them. At 60 calls
// a minute, 100,000 checks are more than a day's work. Planning the same
// input for the same customer to the same plan file continues from it; the
// plan's Commit removes it.
//
// The file is JSON Lines: a header {"kind":"invitectl/planning","version":1,
// "customer":…,"input":SHA256,"createdAt":…}, then one record per answer:
// {"e":EMAIL,"i":true|false} for isInvitableUser, {"e":EMAIL,"g":{state,
// mailsSentCount,updateTime}} or {"e":EMAIL,"nf":true} for get. Answers are
// buffered and flushed every second; a torn last line is ignored. It is a
// cache: losing its tail costs calls, never correctness, so it is not
// fsynced.
type Checks struct {
	path string

	mu      sync.Mutex
	f       *os.File
	w       *bufio.Writer
	known   map[string]answer
	written int // answers recorded since it was opened
	flushed time.Time
	err     error
}

// answer is what planning learned of one address.
type answer struct {
	Email     string    `json:"e"`
	Invitable *bool     `json:"i,omitempty"`
	Got       *Observed `json:"g,omitempty"`
	NotFound  bool      `json:"nf,omitempty"`
}

type checksHeader struct {
	Kind      string    `json:"kind"`
	Version   int       `json:"version"`
	Customer  string    `json:"customer"`
	Input     string    `json:"input"`
	CreatedAt time.Time `json:"createdAt"`
}

// ChecksPath is the planning journal of the plan at plan.
func ChecksPath(plan string) string {
	return strings.TrimSuffix(plan, ".jsonl") + ".planning.jsonl"
}

// OpenChecks opens the planning journal at path for customer and the input
// whose sha256 is input. One made for another customer or input, or older
// than maxAge (answers go stale: people accept, accounts change), is
// replaced by a new one. It returns how many answers it holds.
func OpenChecks(path, customer, input string, maxAge time.Duration) (*Checks, int, error) {
	c := &Checks{path: path, known: map[string]answer{}}
	h, err := c.read(customer, input, maxAge)
	if err != nil {
		return nil, 0, err
	}
	if h == nil {
		hdr := checksHeader{Kind: ChecksKind, Version: 1, Customer: customer, Input: input, CreatedAt: time.Now().UTC()}
		line, _ := json.Marshal(hdr)
		if err := atomicfile.WriteFile(path, func(w io.Writer) error {
			_, err := w.Write(append(line, '\n'))
			return err
		}); err != nil {
			return nil, 0, fmt.Errorf("planning journal: %w", err)
		}
		c.known = map[string]answer{}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("planning journal: %w", err)
	}
	c.f, c.w, c.flushed = f, bufio.NewWriterSize(f, 64<<10), time.Now()
	return c, len(c.known), nil
}

// read loads an existing journal that fits, and returns its header, or nil
// when there is none to continue.
func (c *Checks) read(customer, input string, maxAge time.Duration) (*checksHeader, error) {
	f, err := os.Open(c.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("planning journal: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	if !sc.Scan() {
		return nil, nil
	}
	var h checksHeader
	if json.Unmarshal(sc.Bytes(), &h) != nil || h.Kind != ChecksKind || h.Version != 1 ||
		h.Customer != customer || h.Input != input || time.Since(h.CreatedAt) > maxAge {
		return nil, nil
	}
	for sc.Scan() {
		var a answer
		if json.Unmarshal(bytes.TrimSpace(sc.Bytes()), &a) != nil || a.Email == "" {
			continue // a torn last line
		}
		prev := c.known[a.Email]
		if a.Invitable == nil {
			a.Invitable = prev.Invitable
		}
		if a.Got == nil && !a.NotFound {
			a.Got, a.NotFound = prev.Got, prev.NotFound
		}
		c.known[a.Email] = a
	}
	return &h, nil
}

// lookup returns what is known of email.
func (c *Checks) lookup(email string) (answer, bool) {
	if c == nil {
		return answer{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.known[email]
	return a, ok
}

// record keeps one answer; a write error is kept for Close.
func (c *Checks) record(a answer) {
	if c == nil {
		return
	}
	line, err := json.Marshal(a)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil && c.err == nil {
		_, err = c.w.Write(append(line, '\n'))
		if err == nil {
			c.written++
		}
		if err == nil && time.Since(c.flushed) > time.Second {
			err, c.flushed = c.w.Flush(), time.Now()
		}
	}
	if err != nil && c.err == nil {
		c.err = fmt.Errorf("planning journal %s: %w", c.path, err)
	}
}

// Empty reports whether the journal holds no answer: none read when it
// was opened, none recorded since.
func (c *Checks) Empty() bool {
	if c == nil {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.known) == 0 && c.written == 0
}

// Close flushes and closes the journal, which stays for the next plan of
// the same input.
func (c *Checks) Close() error {
	if c == nil || c.f == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	err := errors.Join(c.err, c.w.Flush(), c.f.Close())
	c.f = nil
	return err
}

// Remove closes and deletes the journal, once the plan is written.
func (c *Checks) Remove() error {
	if c == nil {
		return nil
	}
	_ = c.Close()
	if err := os.Remove(c.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// observed is an answer's invitation, for the planner.
func (a answer) invitation(email string) *invitations.Invitation {
	if a.Got == nil {
		return nil
	}
	return &invitations.Invitation{Email: email, State: a.Got.State, MailsSentCount: a.Got.MailsSentCount, UpdateTime: a.Got.UpdateTime}
}
