package push

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Request is a report, as a trial sends it with [Report].
type Request struct {
	// Metrics are the values reported; at least one.
	Metrics []Metric
	// Time is when the values were measured; the zero Time means the
	// time the server receives the report.
	Time time.Time
}

// Metric is one value of a [Request].
type Metric struct {
	// Name is the metric's name, one of the experiment's metrics.
	Name string
	// Value is the metric's value. NaN and ±Inf are sent (as strings) for
	// the server to refuse, so that the refusal reaches the experiment's
	// log too.
	Value float64
	// Step is the training step or epoch; negative (conventionally -1)
	// means unknown. Note that the zero value is step 0.
	Step int64
}

// StatusError is a report the server refused.
type StatusError struct {
	// Code is the HTTP status code, such as 400 or 410.
	Code int
	// Message is the server's explanation.
	Message string
}

// Error returns the server's message.
func (e *StatusError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("report refused: %d %s", e.Code, http.StatusText(e.Code))
	}
	return e.Message
}

// Report sends r to the server at url ([Server.URL]: "http://HOST:PORT" or
// "unix:/path") with the trial's token. A refusal is returned as a
// *[StatusError] carrying the server's message. Report has no timeout of its
// own: bound it with ctx.
func Report(ctx context.Context, url, token string, r Request) error {
	body, err := encodeRequest(r)
	if err != nil {
		return err
	}
	client := http.DefaultClient
	endpoint := strings.TrimSuffix(url, "/") + ReportPath
	if path, ok := strings.CutPrefix(url, "unix:"); ok {
		var d net.Dialer
		client = &http.Client{Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return d.DialContext(ctx, "unix", path)
			},
		}}
		defer client.CloseIdleConnections()
		endpoint = "http://unix" + ReportPath
	} else if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		return fmt.Errorf("push: report URL %q: want http://HOST:PORT or unix:/path", url)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("push: report: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("push: report to %s: %w", url, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	return &StatusError{Code: resp.StatusCode, Message: strings.TrimSpace(string(msg))}
}

// encodeRequest writes r as the protocol's JSON body.
func encodeRequest(r Request) ([]byte, error) {
	if len(r.Metrics) == 0 {
		return nil, fmt.Errorf("push: report: no metrics")
	}
	wr := wireRequest{Metrics: make([]wireMetric, len(r.Metrics))}
	if !r.Time.IsZero() {
		wr.Timestamp = r.Time.UTC().Format(time.RFC3339Nano)
	}
	for i, m := range r.Metrics {
		v := strconv.FormatFloat(m.Value, 'g', -1, 64)
		if math.IsNaN(m.Value) || math.IsInf(m.Value, 0) {
			v = strconv.Quote(v) // not JSON numbers; the server refuses them
		}
		wm := wireMetric{Name: m.Name, Value: json.RawMessage(v)}
		if m.Step >= 0 {
			wm.Step = &m.Step
		}
		wr.Metrics[i] = wm
	}
	body, err := json.Marshal(wr)
	if err != nil {
		return nil, fmt.Errorf("push: report: %w", err)
	}
	return body, nil
}
