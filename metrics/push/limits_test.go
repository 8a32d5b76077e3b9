package push_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tune-hpo/tune/metrics/push"
)

// waitFor polls cond until it holds, failing the test after a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// dialIdle opens n connections to s that send nothing.
func dialIdle(t *testing.T, s *push.Server, n int) []net.Conn {
	t.Helper()
	network, addr := "tcp", strings.TrimPrefix(s.URL(), "http://")
	if path, ok := strings.CutPrefix(s.URL(), "unix:"); ok {
		network, addr = "unix", path
	}
	conns := make([]net.Conn, n)
	for i := range conns {
		c, err := net.Dial(network, addr)
		if err != nil {
			t.Fatalf("idle connection %d: %v", i, err)
		}
		t.Cleanup(func() { c.Close() })
		conns[i] = c
	}
	return conns
}

// openFDs returns how many file descriptors this process has open, or -1
// where /proc does not tell.
func openFDs() int {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(fds)
}

// TestConnectionLimit: clients that connect and send nothing hold at most
// MaxConns of the server's descriptors; the next client waits (unserved,
// not failed) until one of them closes, and is then served.
func TestConnectionLimit(t *testing.T) {
	const limit, idle = 3, 20
	s, err := push.Listen("127.0.0.1:0", &push.Options{MaxConns: limit, ReadHeaderTimeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var c collector
	tok, _ := s.Register("t", nil, c.sink, c.warn)
	report := func(ctx context.Context) error {
		return push.Report(ctx, s.URL(), tok, push.Request{Metrics: []push.Metric{{Name: "loss", Value: 1}}})
	}

	before := openFDs()
	conns := dialIdle(t, s, idle)
	waitFor(t, "the server holds its limit of connections", func() bool { return s.OpenConns() == limit })
	if before >= 0 {
		// Each idle connection costs this process one descriptor (the
		// client's end); the server's ends are at most the limit.
		if server := openFDs() - before - idle; server > limit+2 {
			t.Errorf("the server holds %d descriptors for %d idle connections; want at most the limit, %d", server, idle, limit)
		}
	}

	// A report now waits in the kernel's queue, behind the idle clients.
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if err := report(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("report while %d idle connections hold the server: %v; want it still waiting at its deadline", idle, err)
	}
	if n := s.OpenConns(); n != limit {
		t.Errorf("%d connections open, want the limit, %d", n, limit)
	}
	// The idle clients go away: the server reaches the report.
	for _, c := range conns {
		c.Close()
	}
	if err := report(t.Context()); err != nil {
		t.Fatalf("report after the idle clients closed: %v", err)
	}
	// The report that gave up had been sent whole into the kernel's
	// queue, so the server may still record it when it gets there.
	if logs, _ := c.snapshot(); len(logs) < 1 || len(logs) > 2 {
		t.Errorf("sink got %d values, want the report (and perhaps the one that gave up)", len(logs))
	}
}

// TestIdleConnectionsTimeOut: connections that send no request header in
// time are closed by the server, which frees their places for a report.
func TestIdleConnectionsTimeOut(t *testing.T) {
	const limit = 2
	s, err := push.Listen("", &push.Options{MaxConns: limit, ReadHeaderTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var c collector
	tok, _ := s.Register("t", nil, c.sink, c.warn)
	conns := dialIdle(t, s, limit)
	waitFor(t, "the server holds its limit of connections", func() bool { return s.OpenConns() == limit })
	if err := push.Report(t.Context(), s.URL(), tok, push.Request{Metrics: []push.Metric{{Name: "loss", Value: 1}}}); err != nil {
		t.Fatalf("report behind idle connections: %v", err)
	}
	for i, conn := range conns {
		conn.SetReadDeadline(time.Now().Add(time.Minute))
		if _, err := io.ReadAll(conn); err != nil {
			t.Errorf("idle connection %d: %v; want it closed by the server", i, err)
		}
	}
}

// TestListenPrivateSocket: by default the server listens on a Unix socket
// in a new directory only this user may enter, removed by Close.
func TestListenPrivateSocket(t *testing.T) {
	s, err := push.Listen("", nil)
	if err != nil {
		t.Fatal(err)
	}
	path, ok := strings.CutPrefix(s.URL(), "unix:")
	if !ok {
		t.Fatalf("URL %q, want unix:/path", s.URL())
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Errorf("socket directory %s: mode %v, want a directory with mode 0700", dir, fi.Mode())
	}
	var c collector
	tok, _ := s.Register("t", []string{"loss"}, c.sink, c.warn)
	if err := push.Report(t.Context(), s.URL(), tok, push.Request{Metrics: []push.Metric{{Name: "loss", Value: 0.5, Step: 2}}}); err != nil {
		t.Fatal(err)
	}
	if logs, _ := c.snapshot(); len(logs) != 1 || logs[0].Value != 0.5 || logs[0].Step != 2 {
		t.Errorf("sink %v, want loss 0.5 at step 2", logs)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket directory after Close: %v; want it removed", err)
	}
}
