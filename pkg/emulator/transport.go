package emulator

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"syscall"
)

// Transport returns an http.RoundTripper that serves requests by calling the
// emulator directly, without a socket. A reset fault surfaces as a
// connection-reset error, as it would from a real connection.
func (s *Server) Transport() http.RoundTripper { return inProcess{s} }

type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	rw := &recorder{header: http.Header{}, code: http.StatusOK}
	if req.Body == nil {
		req.Body = http.NoBody
	}
	t.h.ServeHTTP(rw, req)
	if req.Body != nil {
		_ = req.Body.Close()
	}
	if rw.reset {
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	}
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	return &http.Response{
		Status:        http.StatusText(rw.code),
		StatusCode:    rw.code,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        rw.header,
		Body:          io.NopCloser(bytes.NewReader(rw.body.Bytes())),
		ContentLength: int64(rw.body.Len()),
		Request:       req,
	}, nil
}

// recorder is the smallest http.ResponseWriter the emulator needs.
type recorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
	wrote  bool
	reset  bool
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.code, r.wrote = code, true
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.body.Write(b)
}

// Reset makes the round trip fail as if the connection had been reset.
func (r *recorder) Reset() { r.reset = true }
