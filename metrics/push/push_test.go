package push_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/metrics/push"
)

// collector records what a registration's sink and warn receive.
type collector struct {
	mu    sync.Mutex
	logs  []metrics.Log
	warns []string
}

func (c *collector) sink(l metrics.Log) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.logs = append(c.logs, l)
}

func (c *collector) warn(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.warns = append(c.warns, s)
}

func (c *collector) snapshot() ([]metrics.Log, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]metrics.Log(nil), c.logs...), append([]string(nil), c.warns...)
}

func listen(t *testing.T) *push.Server {
	t.Helper()
	s, err := push.Listen("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// post sends body to the server with token and returns status and message.
func post(t *testing.T, s *push.Server, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL()+push.ReportPath, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.String()
}

func TestListenLoopback(t *testing.T) {
	s := listen(t)
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Errorf("URL %q, want http://127.0.0.1:PORT", s.URL())
	}
}

func TestGoodReport(t *testing.T) {
	s := listen(t)
	var a, b collector
	tokA, _ := s.Register("exp-0001", []string{"accuracy", "loss"}, a.sink, a.warn)
	tokB, _ := s.Register("exp-0002", []string{"accuracy", "loss"}, b.sink, b.warn)
	if tokA == tokB || len(tokA) < 22 {
		t.Fatalf("tokens %q and %q: want distinct, at least 128 bits", tokA, tokB)
	}
	code, msg := post(t, s, tokA, `{"metrics": [{"name": "accuracy", "value": 0.91, "step": 3},
		{"name": "loss", "value": "0.25"}], "timestamp": "2026-01-02T03:04:05.5+01:00"}`)
	if code != http.StatusNoContent {
		t.Fatalf("status %d (%s), want 204", code, msg)
	}
	before := time.Now().UTC()
	if code, msg := post(t, s, tokA, `{"metrics": [{"name": "accuracy", "value": 0.95}]}`); code != http.StatusNoContent {
		t.Fatalf("status %d (%s), want 204", code, msg)
	}
	after := time.Now().UTC()
	logs, warns := a.snapshot()
	ts := time.Date(2026, 1, 2, 2, 4, 5, 5e8, time.UTC)
	want := []metrics.Log{
		{Metric: "accuracy", Value: 0.91, Step: 3, Time: ts},
		{Metric: "loss", Value: 0.25, Step: -1, Time: ts},
		{Metric: "accuracy", Value: 0.95, Step: -1},
	}
	if len(logs) == 3 {
		if logs[2].Time.Before(before.Add(-time.Second)) || logs[2].Time.After(after) || logs[2].Time.Location() != time.UTC {
			t.Errorf("time of a report without timestamp %v, want the UTC time received (%v..%v)", logs[2].Time, before, after)
		}
		want[2].Time = logs[2].Time
	}
	if d := cmp.Diff(want, logs); d != "" {
		t.Errorf("sink (-want +got):\n%s", d)
	}
	if len(warns) != 0 {
		t.Errorf("warnings for a good report: %q", warns)
	}
	if logs, _ := b.snapshot(); len(logs) != 0 {
		t.Errorf("another trial's sink received %v", logs)
	}

	// B's token writes into B only, whatever the body says.
	if code, msg := post(t, s, tokB, `{"metrics": [{"name": "loss", "value": 7}]}`); code != http.StatusNoContent {
		t.Fatalf("status %d (%s), want 204", code, msg)
	}
	if logs, _ := a.snapshot(); len(logs) != 3 {
		t.Errorf("trial A has %d values after B reported, want 3", len(logs))
	}
	if logs, _ := b.snapshot(); len(logs) != 1 || logs[0].Value != 7 {
		t.Errorf("trial B's sink: %v, want loss=7", logs)
	}
}

func TestUnauthorized(t *testing.T) {
	s := listen(t)
	var c collector
	tok, _ := s.Register("secret-trial", nil, c.sink, c.warn)
	body := `{"metrics": [{"name": "accuracy", "value": 1}]}`
	for name, token := range map[string]string{
		"missing":   "",
		"unknown":   "not-a-token",
		"truncated": tok[:len(tok)-1],
		"extended":  tok + "A",
	} {
		code, msg := post(t, s, token, body)
		if code != http.StatusUnauthorized {
			t.Errorf("%s token: status %d, want 401", name, code)
		}
		if strings.Contains(msg, "secret-trial") {
			t.Errorf("%s token: 401 message names a trial: %q", name, msg)
		}
	}
	if logs, warns := c.snapshot(); len(logs)+len(warns) != 0 {
		t.Errorf("unauthorized reports reached the trial: %v %q", logs, warns)
	}
}

func TestRefusedReports(t *testing.T) {
	for name, tc := range map[string]struct {
		body     string
		wantMsg  []string
		wantWarn bool
	}{
		"undeclared metric": {
			body:     `{"metrics": [{"name": "accuracy", "value": 0.5}, {"name": "f1", "value": 0.5}]}`,
			wantMsg:  []string{`"f1"`, "accuracy, loss"},
			wantWarn: true,
		},
		"NaN string": {
			body:     `{"metrics": [{"name": "accuracy", "value": 0.5}, {"name": "loss", "value": "NaN"}]}`,
			wantMsg:  []string{`"loss"`, "NaN", "not a finite number"},
			wantWarn: true,
		},
		"Inf string":       {body: `{"metrics": [{"name": "loss", "value": "+Inf"}]}`, wantMsg: []string{"not a finite number"}, wantWarn: true},
		"overflow":         {body: `{"metrics": [{"name": "loss", "value": 1e999}]}`, wantMsg: []string{"not a finite number"}, wantWarn: true},
		"underflow":        {body: `{"metrics": [{"name": "loss", "value": 1e-400}]}`, wantMsg: []string{"not a finite number"}, wantWarn: true},
		"underflow string": {body: `{"metrics": [{"name": "loss", "value": "-2.5e-400"}]}`, wantMsg: []string{"not a finite number"}, wantWarn: true},
		"garbage":          {body: `{"metrics": [{"name": "loss", "value": "garbage"}]}`, wantMsg: []string{"garbage", "not a finite number"}, wantWarn: true},
		"bool value":       {body: `{"metrics": [{"name": "loss", "value": true}]}`, wantMsg: []string{"not a number"}, wantWarn: true},
		"null value":       {body: `{"metrics": [{"name": "loss", "value": null}]}`, wantMsg: []string{"missing value"}, wantWarn: true},
		"no metrics":       {body: `{"metrics": []}`, wantMsg: []string{"no metrics"}, wantWarn: true},
		"not JSON":         {body: `accuracy=0.9`, wantMsg: []string{"malformed JSON"}, wantWarn: true},
		"unknown field":    {body: `{"metric": [{"name": "loss", "value": 1}]}`, wantMsg: []string{"malformed JSON", "metric"}, wantWarn: true},
		"negative step":    {body: `{"metrics": [{"name": "loss", "value": 1, "step": -2}]}`, wantMsg: []string{"step -2"}, wantWarn: true},
		"bad timestamp":    {body: `{"metrics": [{"name": "loss", "value": 1}], "timestamp": "yesterday"}`, wantMsg: []string{"RFC 3339"}, wantWarn: true},
	} {
		t.Run(name, func(t *testing.T) {
			s := listen(t)
			var c collector
			tok, _ := s.Register("exp-0001", []string{"loss", "accuracy"}, c.sink, c.warn)
			code, msg := post(t, s, tok, tc.body)
			if code != http.StatusBadRequest {
				t.Errorf("status %d, want 400", code)
			}
			for _, w := range tc.wantMsg {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not contain %q", msg, w)
				}
			}
			logs, warns := c.snapshot()
			if len(logs) != 0 {
				t.Errorf("a refused report recorded %v", logs)
			}
			if tc.wantWarn && (len(warns) != 1 || warns[0] != strings.TrimSpace(msg)) {
				t.Errorf("warnings %q, want exactly the response message %q", warns, msg)
			}
		})
	}
}

func TestDone(t *testing.T) {
	s := listen(t)
	var c collector
	tok, done := s.Register("exp-0007", nil, c.sink, c.warn)
	if code, _ := post(t, s, tok, `{"metrics": [{"name": "x", "value": 1}]}`); code != http.StatusNoContent {
		t.Fatalf("before done: status %d", code)
	}
	done()
	done() // idempotent
	code, msg := post(t, s, tok, `{"metrics": [{"name": "x", "value": 2}]}`)
	if code != http.StatusGone || !strings.Contains(msg, "exp-0007 has finished") {
		t.Errorf("after done: %d %q, want 410 saying the trial has finished", code, msg)
	}
	if logs, _ := c.snapshot(); len(logs) != 1 {
		t.Errorf("sink got %d values, want 1 (before done only)", len(logs))
	}
	err := push.Report(context.Background(), s.URL(), tok, push.Request{Metrics: []push.Metric{{Name: "x", Value: 3}}})
	if se, ok := errors.AsType[*push.StatusError](err); !ok || se.Code != http.StatusGone {
		t.Errorf("Report after done: %v, want a 410 StatusError", err)
	}
}

func TestTooLarge(t *testing.T) {
	s := listen(t)
	var c collector
	tok, _ := s.Register("t", nil, c.sink, c.warn)
	body := `{"metrics": [{"name": "x", "value": 1}], "timestamp": "` + strings.Repeat(" ", push.MaxBodyBytes) + `"}`
	if code, msg := post(t, s, tok, body); code != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d (%s), want 413", code, msg)
	}
	if logs, _ := c.snapshot(); len(logs) != 0 {
		t.Errorf("an oversized report recorded %v", logs)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	s := listen(t)
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		req, _ := http.NewRequest(m, s.URL()+push.ReportPath, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s: status %d, want 405", m, resp.StatusCode)
		}
	}
}

func TestConcurrentReports(t *testing.T) {
	s := listen(t)
	var c collector
	tok, done := s.Register("t", []string{"accuracy"}, c.sink, c.warn)
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- push.Report(t.Context(), s.URL(), tok, push.Request{
				Metrics: []push.Metric{{Name: "accuracy", Value: float64(i), Step: int64(i)}},
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	done()
	logs, _ := c.snapshot()
	seen := make(map[int64]bool)
	for _, l := range logs {
		if l.Value != float64(l.Step) {
			t.Errorf("value %v recorded with step %d", l.Value, l.Step)
		}
		seen[l.Step] = true
	}
	if len(logs) != n || len(seen) != n {
		t.Errorf("recorded %d values over %d steps, want %d", len(logs), len(seen), n)
	}
}

// TestDoneWaitsForSink checks that once done returns, the sink is never
// called again, even for a report that was in flight.
func TestDoneWaitsForSink(t *testing.T) {
	s := listen(t)
	var mu sync.Mutex
	finished := false
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	sink := func(metrics.Log) {
		entered <- struct{}{}
		<-release
		mu.Lock()
		defer mu.Unlock()
		if finished {
			t.Error("sink called after done returned")
		}
	}
	tok, done := s.Register("t", nil, sink, nil)
	go push.Report(context.Background(), s.URL(), tok, push.Request{Metrics: []push.Metric{{Name: "x", Value: 1}}})
	<-entered
	doneReturned := make(chan struct{})
	go func() {
		done()
		mu.Lock()
		finished = true
		mu.Unlock()
		close(doneReturned)
	}()
	select {
	case <-doneReturned:
		t.Fatal("done returned while the sink was running")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	<-doneReturned
}

func TestClose(t *testing.T) {
	s, err := push.Listen("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	var c collector
	tok, _ := s.Register("t", nil, c.sink, c.warn)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = push.Report(ctx, s.URL(), tok, push.Request{Metrics: []push.Metric{{Name: "x", Value: 1}}})
	if err == nil {
		t.Error("Report after Close succeeded")
	}
	if _, ok := errors.AsType[*push.StatusError](err); ok {
		t.Errorf("Report after Close got a response: %v; want the connection refused", err)
	}
	if logs, _ := c.snapshot(); len(logs) != 0 {
		t.Errorf("recorded after Close: %v", logs)
	}
}

func TestClientCarriesServerMessage(t *testing.T) {
	s := listen(t)
	var c collector
	tok, _ := s.Register("exp-0003", []string{"accuracy"}, c.sink, c.warn)
	err := push.Report(t.Context(), s.URL(), tok, push.Request{Metrics: []push.Metric{{Name: "loss", Value: 1}}})
	se, ok := errors.AsType[*push.StatusError](err)
	if !ok {
		t.Fatalf("Report: %v, want a *StatusError", err)
	}
	if se.Code != http.StatusBadRequest || !strings.Contains(err.Error(), `metric "loss" is not one of the experiment's metrics (accuracy)`) {
		t.Errorf("Report: %d %q, want 400 with the server's message", se.Code, err)
	}
	// Non-finite values reach the server, which refuses them and warns.
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		err := push.Report(t.Context(), s.URL(), tok, push.Request{Metrics: []push.Metric{{Name: "accuracy", Value: v}}})
		if se, ok := errors.AsType[*push.StatusError](err); !ok || se.Code != http.StatusBadRequest || !strings.Contains(se.Message, "not a finite number") {
			t.Errorf("Report(%v): %v, want 400 not a finite number", v, err)
		}
	}
	logs, warns := c.snapshot()
	if len(logs) != 0 || len(warns) != 4 {
		t.Errorf("recorded %v, warned %d times; want nothing and 4 warnings", logs, len(warns))
	}
	if err := push.Report(t.Context(), "ftp://x", tok, push.Request{Metrics: []push.Metric{{Name: "a"}}}); err == nil {
		t.Error("Report to an ftp:// URL succeeded")
	}
	if err := push.Report(t.Context(), s.URL(), tok, push.Request{}); err == nil {
		t.Error("Report with no metrics succeeded")
	}
}

func TestUnixSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "push.sock")
	s, err := push.Listen("unix:"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.URL() != "unix:"+path {
		t.Errorf("URL %q, want unix:%s", s.URL(), path)
	}
	var c collector
	tok, _ := s.Register("t", nil, c.sink, c.warn)
	ts := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	err = push.Report(t.Context(), s.URL(), tok, push.Request{Time: ts, Metrics: []push.Metric{{Name: "loss", Value: 0.5, Step: 0}}})
	if err != nil {
		t.Fatal(err)
	}
	want := []metrics.Log{{Metric: "loss", Value: 0.5, Step: 0, Time: ts}}
	if logs, _ := c.snapshot(); !cmp.Equal(logs, want) {
		t.Errorf("sink %v, want %v", logs, want)
	}
	if _, err := push.Listen("unix:", nil); err == nil {
		t.Error(`Listen("unix:") succeeded`)
	}
}

func ExampleReport() {
	s, err := push.Listen("", nil) // a Unix socket in a private directory
	if err != nil {
		panic(err)
	}
	defer s.Close()
	token, done := s.Register("exp-0001", []string{"accuracy"}, func(l metrics.Log) {
		fmt.Printf("%s=%g step %d\n", l.Metric, l.Value, l.Step)
	}, nil)
	defer done()
	err = push.Report(context.Background(), s.URL(), token, push.Request{
		Metrics: []push.Metric{{Name: "accuracy", Value: 0.91, Step: 3}},
	})
	fmt.Println(err)
	// Output:
	// accuracy=0.91 step 3
	// <nil>
}
