package emulator

import (
	"net"
	"net/http"
)

const (
	fault429       = "429"
	fault503       = "503"
	fault503After  = "503_after"
	faultReset     = "reset"
	faultResetDone = "reset_after"
)

// faults is what the dice decided for one call: a failure before the change
// is applied, or one after it.
type faults struct{ before, after string }

func (s *Server) drawFaults(c call) faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	roll := func(p float64) bool { return p > 0 && s.rng.Float64() < p }
	var f faults
	switch {
	case roll(s.cfg.Fault429):
		f.before = fault429
	case roll(s.cfg.Fault503):
		f.before = fault503
	case roll(s.cfg.Fault503After):
		f.after = fault503After
	case roll(s.cfg.FaultReset):
		// A reset can cut the request before the server acts or the answer
		// after it did; for mutating calls both happen.
		if c.write() && s.rng.IntN(2) == 0 {
			f.after = faultResetDone
		} else {
			f.before = faultReset
		}
	}
	if f.before != "" {
		s.faults[f.before]++
		if a := s.account(c.email); a != nil && c.write() {
			a.faultsBefore++
		}
	}
	if f.after != "" {
		s.faults[f.after]++
	}
	return f
}

// admit charges the call to its quota bucket.
func (s *Server) admit(c call) bool {
	lim, bucket := s.readLim, "read"
	if c.write() {
		lim, bucket = s.writLim, "write"
	}
	if lim == nil || lim.AllowN(s.now(), 1) {
		return true
	}
	s.mu.Lock()
	s.quota[bucket]++
	s.mu.Unlock()
	return false
}

func quotaDetails(write bool) (string, any) {
	metric, limit := "cloudidentity.googleapis.com/read_requests", "ReadRequestsPerMinutePerProject"
	if write {
		metric, limit = "cloudidentity.googleapis.com/write_requests", "WriteRequestsPerMinutePerProject"
	}
	msg := "Quota exceeded for quota metric '" + metric + "' and limit '" + limit + "' of service 'cloudidentity.googleapis.com'."
	return msg, map[string]any{
		"@type":  "type.googleapis.com/google.rpc.ErrorInfo",
		"reason": "RATE_LIMIT_EXCEEDED",
		"domain": "googleapis.com",
		"metadata": map[string]string{
			"service":      "cloudidentity.googleapis.com",
			"quota_metric": metric,
			"quota_limit":  limit,
		},
	}
}

func writeQuota(w http.ResponseWriter, write bool) {
	msg, detail := quotaDetails(write)
	writeError(w, http.StatusTooManyRequests, "RESOURCE_EXHAUSTED", msg, detail)
}

// fail writes the injected failure.
func (s *Server) fail(w http.ResponseWriter, c call, kind string) {
	switch kind {
	case fault429:
		writeQuota(w, c.write())
	case fault503, fault503After:
		writeError(w, http.StatusServiceUnavailable, "UNAVAILABLE", "The service is currently unavailable.")
	case faultReset, faultResetDone:
		reset(w)
	}
}

// reset drops the connection without an answer: the client sees a reset.
func reset(w http.ResponseWriter) {
	if rw, ok := w.(resetter); ok {
		rw.Reset()
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0) // RST instead of FIN
	}
	_ = conn.Close()
}

// resetter is implemented by the in-process transport's response writer.
type resetter interface{ Reset() }
