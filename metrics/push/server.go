package push

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/netutil"

	"github.com/tune-hpo/tune/metrics"
)

// Environment variables that carry a trial's endpoint and secret.
const (
	// EnvURL names the variable holding the server's URL ([Server.URL]).
	EnvURL = "TUNE_REPORT_URL"
	// EnvToken names the variable holding the trial's token.
	EnvToken = "TUNE_REPORT_TOKEN"
)

// MaxBodyBytes is the largest request body the server reads; larger
// reports are refused with 413.
const MaxBodyBytes = 1 << 20

// ReportPath is the path, under the server's URL, that reports are sent to.
const ReportPath = "/v1/report"

// The defaults of [Options].
const (
	// DefaultMaxConns is the default of Options.MaxConns.
	DefaultMaxConns = 64
	// DefaultReadHeaderTimeout is the default of Options.ReadHeaderTimeout.
	DefaultReadHeaderTimeout = 5 * time.Second
	// DefaultReadTimeout is the default of Options.ReadTimeout.
	DefaultReadTimeout = 15 * time.Second
	// DefaultIdleTimeout is the default of Options.IdleTimeout.
	DefaultIdleTimeout = 10 * time.Second
)

// maxHeaderBytes bounds a request's header.
const maxHeaderBytes = 16 << 10

// socketName is the name of the socket [Listen] creates in its private
// directory.
const socketName = "report.sock"

// Options tune a [Server]'s limits. The zero value (or a nil *Options)
// means the defaults.
type Options struct {
	// MaxConns is how many connections the server holds open at once;
	// further clients wait, in the kernel's accept queue, until one
	// closes. Zero means DefaultMaxConns.
	MaxConns int
	// ReadHeaderTimeout is how long a connection may take to send a
	// request's header, from when it is accepted or its previous request
	// ended; past it the connection is closed. Zero means
	// DefaultReadHeaderTimeout.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds the reading of a whole request, body included,
	// and the writing of its response. Zero means DefaultReadTimeout.
	ReadTimeout time.Duration
	// IdleTimeout is how long a kept-alive connection may wait for its
	// next request. Zero means DefaultIdleTimeout.
	IdleTimeout time.Duration
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// closeTimeout bounds how long Close waits for requests in flight.
const closeTimeout = 5 * time.Second

// closeFreshAfter is how long Close lets a connection that has sent no
// request yet send one.
const closeFreshAfter = 500 * time.Millisecond

// Server receives the reports of an experiment's trials. Create one with
// [Listen]; it is safe for concurrent use.
type Server struct {
	srv *http.Server
	url string
	dir string // the private directory holding the socket; "" when none

	mu     sync.Mutex
	trials map[[sha256.Size]byte]*registration

	closeOnce sync.Once
	closeErr  error

	connMu sync.Mutex
	fresh  map[net.Conn]bool // connections that have not sent a request yet
	open   int               // connections accepted and not yet closed
}

// registration is one Register call: a trial and its token.
type registration struct {
	trial   string
	token   string
	allowed []string // sorted; empty allows every name
	sink    func(metrics.Log)
	warn    func(string)

	// mu is held for reading while sink or warn run, and for writing by
	// done, so that neither runs once done has returned.
	mu       sync.RWMutex
	finished bool
}

// Listen starts a server on addr, with the limits of opts (nil means the
// defaults), and returns it serving. addr is one of:
//
//   - "": a Unix domain socket, report.sock, in a new directory under
//     os.TempDir() that only this user may enter (mode 0700); Close
//     removes the directory. Local trials, which run as this user, reach
//     it; other users cannot connect.
//   - "unix:/path": a Unix domain socket at /path, which must not exist.
//   - a TCP host:port, such as "127.0.0.1:0" (a free loopback port), for
//     trials that cannot reach this machine's files (containers).
//
// Close the server when the experiment ends.
func Listen(addr string, opts *Options) (*Server, error) {
	if opts == nil {
		opts = &Options{}
	}
	s := &Server{trials: make(map[[sha256.Size]byte]*registration), fresh: make(map[net.Conn]bool)}
	network, address := "tcp", addr
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		if path == "" {
			return nil, fmt.Errorf("push: listen %q: empty socket path", addr)
		}
		network, address = "unix", path
	}
	if addr == "" {
		dir, err := privateDir()
		if err != nil {
			return nil, err
		}
		s.dir = dir
		network, address = "unix", filepath.Join(dir, socketName)
	}
	ln, err := net.Listen(network, address)
	if err != nil {
		s.removeDir()
		return nil, fmt.Errorf("push: listen: %w", err)
	}
	if network == "unix" {
		s.url = "unix:" + address
	} else {
		s.url = "http://" + ln.Addr().String()
	}
	maxConns := opts.MaxConns
	if maxConns <= 0 {
		maxConns = DefaultMaxConns
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+ReportPath, s.handleReport)
	readTimeout := orDefault(opts.ReadTimeout, DefaultReadTimeout)
	s.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: orDefault(opts.ReadHeaderTimeout, DefaultReadHeaderTimeout),
		ReadTimeout:       readTimeout,
		WriteTimeout:      readTimeout,
		IdleTimeout:       orDefault(opts.IdleTimeout, DefaultIdleTimeout),
		MaxHeaderBytes:    maxHeaderBytes,
		ConnState:         s.trackConn,
	}
	// At most maxConns connections are held open: further ones wait in the
	// kernel's accept queue, so that clients that connect and send nothing
	// cannot exhaust the process's file descriptors.
	go s.srv.Serve(netutil.LimitListener(ln, maxConns)) //nolint:errcheck // Serve returns ErrServerClosed after Close
	return s, nil
}

// maxSocketPath is the longest socket path every Unix accepts (sun_path
// holds 104 bytes on the BSDs, 108 on Linux, with the terminating NUL).
const maxSocketPath = 103

// privateDir creates a directory for the socket under os.TempDir() (or
// /tmp, when TMPDIR is too long to hold a socket path) that only this user
// may enter.
func privateDir() (string, error) {
	parent := os.TempDir()
	if len(parent)+len("/tune-push-1234567890/"+socketName) > maxSocketPath {
		parent = "/tmp"
	}
	dir, err := os.MkdirTemp(parent, "tune-push-")
	if err != nil {
		return "", fmt.Errorf("push: socket directory: %w", err)
	}
	// MkdirTemp already creates it 0700; say so whatever the platform.
	if err := os.Chmod(dir, 0o700); err != nil {
		os.Remove(dir)
		return "", fmt.Errorf("push: socket directory: %w", err)
	}
	return dir, nil
}

// removeDir removes the private socket directory, if any.
func (s *Server) removeDir() {
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}

// URL returns the address trials report to, as given to them in
// TUNE_REPORT_URL: "unix:/path" for a socket, else "http://HOST:PORT".
func (s *Server) URL() string { return s.url }

// trackConn keeps the set of connections that have sent no request yet,
// and the count of those open.
func (s *Server) trackConn(c net.Conn, state http.ConnState) {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	switch state {
	case http.StateNew:
		s.open++
	case http.StateClosed, http.StateHijacked:
		s.open--
	}
	if state == http.StateNew {
		s.fresh[c] = true
	} else {
		delete(s.fresh, c)
	}
}

// Close stops the server: it stops accepting connections at once, waits up
// to 5 seconds for reports in flight and then closes the remaining
// connections. Connections that have sent no request within half a second
// are closed (http.Server.Shutdown alone would wait 5 seconds for those,
// which clients that pool connections leave behind). It is safe to call
// more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		stop := time.AfterFunc(closeFreshAfter, func() {
			s.connMu.Lock()
			defer s.connMu.Unlock()
			for c := range s.fresh {
				c.Close()
			}
		})
		defer stop.Stop()
		if err := s.srv.Shutdown(ctx); err != nil {
			s.srv.Close()
			s.closeErr = fmt.Errorf("push: close: %w", err)
		}
		s.removeDir()
	})
	return s.closeErr
}

// Register admits reports for trial, whose metrics may only be those named
// in metricNames (an empty list admits every name), and returns the token
// the trial must present and a function to call when the trial has ended.
//
// Each accepted value is passed to sink; each refused report of this trial
// (undeclared metric, non-finite value, malformed body) is described to
// warn, which may be nil. Both are called from request goroutines, possibly
// concurrently, and must not call done; neither is called once done has
// returned, and done waits for calls in progress. After done,
// reports with the token are refused with 410 Gone. done is idempotent.
//
// The registration is kept, to answer 410, until the server is closed.
// Every call returns a new token: 192 random bits from crypto/rand, in
// unpadded base64url.
func (s *Server) Register(trial string, metricNames []string, sink func(metrics.Log), warn func(string)) (token string, done func()) {
	var b [24]byte  // 192 bits
	rand.Read(b[:]) // never fails (crypto/rand panics rather than return an error)
	token = base64.RawURLEncoding.EncodeToString(b[:])
	allowed := slices.Clone(metricNames)
	slices.Sort(allowed)
	allowed = slices.Compact(allowed)
	if warn == nil {
		warn = func(string) {}
	}
	r := &registration{trial: trial, token: token, allowed: allowed, sink: sink, warn: warn}
	s.mu.Lock()
	s.trials[sha256.Sum256([]byte(token))] = r
	s.mu.Unlock()
	return token, func() {
		r.mu.Lock()
		r.finished = true
		r.mu.Unlock()
	}
}

// lookup returns the registration of token, or nil. The map is keyed by the
// token's hash and the token is then compared in constant time, so timing
// reveals nothing about valid tokens.
func (s *Server) lookup(token string) *registration {
	s.mu.Lock()
	r := s.trials[sha256.Sum256([]byte(token))]
	s.mu.Unlock()
	if r == nil || subtle.ConstantTimeCompare([]byte(r.token), []byte(token)) != 1 {
		return nil
	}
	return r
}

// isFinished reports whether done has been called.
func (r *registration) isFinished() bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.finished
}

// goneMessage is the body of a 410 response.
func (r *registration) goneMessage() string {
	return fmt.Sprintf("trial %s has finished: its metrics are no longer accepted", r.trial)
}

// wireRequest is the JSON body of a report.
type wireRequest struct {
	Metrics   []wireMetric `json:"metrics"`
	Timestamp string       `json:"timestamp,omitempty"`
}

// wireMetric is one metric of a report; Value is a number or a string.
type wireMetric struct {
	Name  string          `json:"name"`
	Value json.RawMessage `json:"value"`
	Step  *int64          `json:"step,omitempty"`
}

func (s *Server) handleReport(w http.ResponseWriter, req *http.Request) {
	token, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
	var r *registration
	if ok && token != "" {
		r = s.lookup(strings.TrimSpace(token))
	}
	if r == nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="tune"`)
		http.Error(w, "missing or unknown report token: send the trial's TUNE_REPORT_TOKEN as \"Authorization: Bearer TOKEN\"", http.StatusUnauthorized)
		return
	}
	if r.isFinished() {
		http.Error(w, r.goneMessage(), http.StatusGone)
		return
	}
	received := time.Now().UTC()
	body, err := readBody(w, req)
	code, msg := 0, ""
	var logs []metrics.Log
	if err != nil {
		code, msg = http.StatusBadRequest, fmt.Sprintf("report of trial %s refused: reading body: %v", r.trial, err)
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			code, msg = http.StatusRequestEntityTooLarge, fmt.Sprintf("report of trial %s refused: body over %d bytes", r.trial, MaxBodyBytes)
		}
	} else if logs, err = r.parse(body, received); err != nil {
		code, msg = http.StatusBadRequest, fmt.Sprintf("report of trial %s refused, nothing recorded: %v", r.trial, err)
	}
	// The read lock is held while sink or warn run, so that done waits for
	// them; the body was read without it, so a slow client cannot delay done.
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.finished {
		http.Error(w, r.goneMessage(), http.StatusGone)
		return
	}
	if code != 0 {
		r.warn(msg)
		http.Error(w, msg, code)
		return
	}
	for _, l := range logs {
		r.sink(l)
	}
	w.WriteHeader(http.StatusNoContent)
}

// readBody reads the request body up to MaxBodyBytes.
func readBody(w http.ResponseWriter, req *http.Request) ([]byte, error) {
	var buf bytes.Buffer
	_, err := buf.ReadFrom(http.MaxBytesReader(w, req.Body, MaxBodyBytes))
	return buf.Bytes(), err
}

// parse decodes and checks a whole report, returning its values or the
// first problem found.
func (r *registration) parse(body []byte, received time.Time) ([]metrics.Log, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var wr wireRequest
	if err := dec.Decode(&wr); err != nil {
		return nil, fmt.Errorf("malformed JSON body: %w", err)
	}
	if dec.More() {
		return nil, errors.New("malformed JSON body: more than one JSON value")
	}
	if len(wr.Metrics) == 0 {
		return nil, errors.New(`no metrics: want {"metrics": [{"name": ..., "value": ...}]}`)
	}
	t := received
	if wr.Timestamp != "" {
		ts, err := time.Parse(time.RFC3339Nano, wr.Timestamp)
		if err != nil {
			return nil, fmt.Errorf("timestamp %q: want RFC 3339, like 2006-01-02T15:04:05Z", wr.Timestamp)
		}
		t = ts.UTC()
	}
	logs := make([]metrics.Log, 0, len(wr.Metrics))
	for i, m := range wr.Metrics {
		if m.Name == "" {
			return nil, fmt.Errorf("metrics[%d]: missing name", i)
		}
		if len(r.allowed) > 0 && !slices.Contains(r.allowed, m.Name) {
			return nil, fmt.Errorf("metric %q is not one of the experiment's metrics (%s)", m.Name, strings.Join(r.allowed, ", "))
		}
		v, err := parseValue(m.Value)
		if err != nil {
			return nil, fmt.Errorf("metric %q: %w", m.Name, err)
		}
		step := int64(-1)
		if m.Step != nil {
			if *m.Step < 0 {
				return nil, fmt.Errorf("metric %q: step %d is negative (omit it when unknown)", m.Name, *m.Step)
			}
			step = *m.Step
		}
		logs = append(logs, metrics.Log{Metric: m.Name, Value: v, Step: step, Time: t})
	}
	return logs, nil
}

// parseValue reads a metric value: a JSON number or a string holding one.
// It refuses anything that is not a finite number.
func parseValue(raw json.RawMessage) (float64, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, errors.New("missing value")
	}
	text := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &text); err != nil {
			return 0, fmt.Errorf("value %s: %w", raw, err)
		}
		text = strings.TrimSpace(text)
	} else if raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
		return 0, fmt.Errorf("value %s is not a number", raw)
	}
	v, err := strconv.ParseFloat(text, 64)
	if (err != nil && !errors.Is(err, strconv.ErrRange)) || math.IsNaN(v) || math.IsInf(v, 0) || metrics.Underflowed(text, v) {
		return 0, fmt.Errorf("value %q is not a finite number; not recorded", text)
	}
	return v, nil
}
