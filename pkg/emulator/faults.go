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

// fail writes the injected failure.
func (s *Server) fail(w http.ResponseWriter, c call, kind string) {
	switch kind {
	case fault429:
		writeBareQuota(w)
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
