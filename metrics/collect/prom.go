package collect

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"syscall"
	"time"

	"github.com/tune-hpo/tune/metrics"
)

// promCollector scrapes the trial's Prometheus endpoint while it runs and
// records a value each time it changes (a gauge read twice unchanged is one
// observation).
type promCollector struct {
	url   string
	names []string
	emit  func(metrics.Log)
	warn  func(string)
}

func (c *promCollector) Collect(ctx context.Context) {
	client := &http.Client{Timeout: 5 * time.Second}
	last := map[string]float64{} // the value last recorded, by metric
	scraped, warned := false, false
	scrape := func(final bool) {
		logs, invalid, err := metrics.ScrapePrometheus(context.WithoutCancel(ctx), client, c.url, c.names, time.Now())
		if err != nil {
			// Refused before the trial listens and after it exits: normal.
			if !final && !warned && !errors.Is(err, syscall.ECONNREFUSED) {
				c.warn(fmt.Sprintf("metrics endpoint %s: %v", c.url, err))
				warned = true
			}
			return
		}
		scraped = true
		for _, l := range logs {
			if prev, ok := last[l.Metric]; ok && prev == l.Value {
				continue
			}
			last[l.Metric] = l.Value
			c.emit(l)
		}
		for _, bad := range invalid {
			c.warn(fmt.Sprintf("metrics endpoint %s: %s; ignored", c.url, bad))
		}
	}
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			scrape(true)
			if !scraped {
				c.warn(fmt.Sprintf("the trial's metrics endpoint %s never answered (%s is the port it must listen on)", c.url, EnvMetricsPort))
			}
			return
		case <-t.C:
			scrape(false)
		}
	}
}
