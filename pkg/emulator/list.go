package emulator

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	defaultPageSize = 100
	maxPageSize     = 200
)

// listQuery is a parsed list request.
type listQuery struct {
	filter   filter
	byTime   bool
	desc     bool
	pageSize int
	after    *cursor
}

// filter is a disjunction of state tests; empty matches everything.
type filter []term

type term struct {
	state string
	neg   bool
}

func (f filter) match(state string) bool {
	if len(f) == 0 {
		return true
	}
	for _, t := range f {
		if (state == t.state) != t.neg {
			return true
		}
	}
	return false
}

// canonical renders the filter so that tokens can be bound to it.
func (f filter) canonical() string {
	parts := make([]string, len(f))
	for i, t := range f {
		op := "=="
		if t.neg {
			op = "!="
		}
		parts[i] = "state" + op + t.state
	}
	slices.Sort(parts)
	return strings.Join(parts, "||")
}

var termRE = regexp.MustCompile(`^\s*([A-Za-z_]+)\s*(==|!=|=)\s*(?:'([^']*)'|"([^"]*)"|([A-Za-z_]+))\s*$`)

func parseFilter(s string) (filter, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var f filter
	for _, part := range strings.Split(s, "||") {
		m := termRE.FindStringSubmatch(part)
		if m == nil {
			return nil, fmt.Errorf("invalid filter %q: each term must look like state=='invited' or state!='accepted', joined by ||", s)
		}
		if m[1] != "state" {
			return nil, fmt.Errorf("invalid filter %q: unknown field %q (only state can be filtered)", s, m[1])
		}
		value := m[3] + m[4] + m[5]
		st, ok := parseState(value)
		if !ok {
			return nil, fmt.Errorf("invalid filter %q: unknown state %q", s, value)
		}
		f = append(f, term{state: st, neg: m[2] == "!="})
	}
	return f, nil
}

func parseOrder(s string) (byTime, desc bool, err error) {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return false, false, nil
	}
	if len(fields) > 2 {
		return false, false, fmt.Errorf("invalid orderBy %q: one field with an optional asc or desc", s)
	}
	switch fields[0] {
	case "email":
	case "update_time", "updateTime":
		byTime = true
	default:
		return false, false, fmt.Errorf("invalid orderBy %q: unknown field %q (want email or update_time)", s, fields[0])
	}
	if len(fields) == 2 {
		switch strings.ToLower(fields[1]) {
		case "asc":
		case "desc":
			desc = true
		default:
			return false, false, fmt.Errorf("invalid orderBy %q: unknown direction %q (want asc or desc)", s, fields[1])
		}
	}
	return byTime, desc, nil
}

// cursor is what a page token carries: the request it belongs to and the
// last item served.
type cursor struct {
	Filter string    `json:"f"`
	Order  string    `json:"o"`
	Email  string    `json:"e"`
	Time   time.Time `json:"t"`
}

func (q listQuery) order() string {
	o := "email"
	if q.byTime {
		o = "update_time"
	}
	if q.desc {
		o += " desc"
	}
	return o
}

func encodeToken(c cursor) string {
	b, _ := json.Marshal(c)
	return "emu1." + base64.RawURLEncoding.EncodeToString(b)
}

func decodeToken(tok string) (cursor, error) {
	var c cursor
	raw, ok := strings.CutPrefix(tok, "emu1.")
	if !ok {
		return c, fmt.Errorf("invalid page token")
	}
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || json.Unmarshal(b, &c) != nil {
		return c, fmt.Errorf("invalid page token")
	}
	return c, nil
}

func parseListQuery(v url.Values) (listQuery, error) {
	var q listQuery
	var err error
	if q.filter, err = parseFilter(v.Get("filter")); err != nil {
		return q, err
	}
	if q.byTime, q.desc, err = parseOrder(v.Get("orderBy")); err != nil {
		return q, err
	}
	q.pageSize = defaultPageSize
	if ps := v.Get("pageSize"); ps != "" {
		n, err := strconv.Atoi(ps)
		if err != nil {
			return q, fmt.Errorf("invalid pageSize %q: not an integer", ps)
		}
		switch {
		case n <= 0:
		case n > maxPageSize:
			q.pageSize = maxPageSize
		default:
			q.pageSize = n
		}
	}
	if tok := v.Get("pageToken"); tok != "" {
		c, err := decodeToken(tok)
		if err != nil {
			return q, err
		}
		if c.Filter != q.filter.canonical() || c.Order != q.order() {
			return q, fmt.Errorf("page token was issued for another filter or orderBy; pass the same filter and orderBy as the first page")
		}
		q.after = &c
	}
	return q, nil
}

// list serves one page as the index shows it at now; the caller holds s.mu.
func (s *Server) list(c call, v url.Values, now time.Time) (int, any) {
	q, err := parseListQuery(v)
	if err != nil {
		return errorBody(http.StatusBadRequest, "INVALID_ARGUMENT", err.Error())
	}
	order := s.byEmail
	before := func(a, b *account) bool { return a.Email < b.Email }
	if q.byTime {
		order = s.timeOrder()
		before = func(a, b *account) bool {
			return a.UpdateTime.Before(b.UpdateTime) || a.UpdateTime.Equal(b.UpdateTime) && a.Email < b.Email
		}
	}
	// Position, in walking order, of the first item past the cursor.
	n := len(order)
	start := 0
	if q.after != nil {
		probe := &account{User: &User{Email: q.after.Email}, UpdateTime: q.after.Time}
		if q.desc {
			start = n - sort.Search(n, func(i int) bool { return !before(order[i], probe) })
		} else {
			start = sort.Search(n, func(i int) bool { return before(probe, order[i]) })
		}
	}
	type page struct {
		Items []wireInvitation `json:"userInvitations,omitempty"`
		Next  string           `json:"nextPageToken,omitempty"`
	}
	var p page
	var last *account
	for i := start; i < n; i++ {
		a := order[i]
		if q.desc {
			a = order[n-1-i]
		}
		if !a.shown(now) || !q.filter.match(a.State) {
			continue
		}
		if len(p.Items) == q.pageSize {
			p.Next = encodeToken(cursor{Filter: q.filter.canonical(), Order: q.order(), Email: last.Email, Time: last.UpdateTime})
			break
		}
		p.Items = append(p.Items, s.invitation(c.customer, a))
		last = a
	}
	return http.StatusOK, p
}

// timeOrder returns the unmanaged accounts by (update time, email), rebuilt
// only after a change.
func (s *Server) timeOrder() []*account {
	if s.byTime != nil && s.timeVer == s.version {
		return s.byTime
	}
	s.byTime = append(s.byTime[:0], s.byEmail...)
	sort.Slice(s.byTime, func(i, j int) bool {
		a, b := s.byTime[i], s.byTime[j]
		if !a.UpdateTime.Equal(b.UpdateTime) {
			return a.UpdateTime.Before(b.UpdateTime)
		}
		return a.Email < b.Email
	})
	s.timeVer = s.version
	return s.byTime
}
