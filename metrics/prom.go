package metrics

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// maxScrapeBytes bounds a scraped /metrics body.
const maxScrapeBytes = 16 << 20

// ScrapePrometheus fetches url, a Prometheus text exposition (a trial's
// /metrics endpoint, Katib's PrometheusMetric collector), parses it with
// Prometheus' own text parser, and returns a log for each metric family
// named in names, with the sample's timestamp when it has one and now
// otherwise.
//
// Gauges, counters and untyped samples are read; summaries and histograms
// are not (listed in invalid, as "name: a summary, not a gauge, counter or
// untyped metric"). A family with one series gives its value, labelled or
// not; a family with several series (labels) gives the value of its series
// without labels; when there is none, it is ambiguous and listed in
// invalid ("name: 3 labelled series and none without labels") rather than
// guessed. Families not named in names are ignored. Values that are not finite numbers are listed in invalid as
// "name=value". A body that does not parse, is over 16 MiB, or comes with
// a status other than 200 is an error.
func ScrapePrometheus(ctx context.Context, client *http.Client, url string, names []string, now time.Time) (logs []Log, invalid []string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("scrape %s: %s", url, resp.Status)
	}
	body := io.LimitReader(resp.Body, maxScrapeBytes+1)
	counted := &countingReader{r: body}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(counted)
	if counted.n > maxScrapeBytes {
		return nil, nil, fmt.Errorf("scrape %s: body over %d MiB", url, maxScrapeBytes>>20)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	for _, name := range names {
		fam, ok := families[name]
		if !ok {
			continue
		}
		m, problem := pickSeries(fam)
		if m == nil {
			if problem != "" {
				invalid = append(invalid, name+": "+problem)
			}
			continue
		}
		var v float64
		switch {
		case m.Gauge != nil:
			v = m.Gauge.GetValue()
		case m.Counter != nil:
			v = m.Counter.GetValue()
		case m.Untyped != nil:
			v = m.Untyped.GetValue()
		default:
			continue
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			invalid = append(invalid, fmt.Sprintf("%s=%g", name, v))
			continue
		}
		ts := now.UTC()
		if m.TimestampMs != nil {
			ts = time.UnixMilli(m.GetTimestampMs()).UTC()
		}
		logs = append(logs, Log{Metric: name, Value: v, Step: -1, Time: ts})
	}
	return logs, invalid, nil
}

// pickSeries returns the series of fam whose value is the metric's: the
// only one, else the one without labels; problem says why there is none.
func pickSeries(fam *dto.MetricFamily) (m *dto.Metric, problem string) {
	switch fam.GetType() {
	case dto.MetricType_GAUGE, dto.MetricType_COUNTER, dto.MetricType_UNTYPED:
	default:
		return nil, fmt.Sprintf("a %s, not a gauge, counter or untyped metric", strings.ToLower(fam.GetType().String()))
	}
	if len(fam.Metric) == 0 {
		return nil, "" // the text parser drops such families; nothing to read
	}
	if len(fam.Metric) == 1 {
		return fam.Metric[0], ""
	}
	if i := slices.IndexFunc(fam.Metric, func(m *dto.Metric) bool { return len(m.Label) == 0 }); i >= 0 {
		return fam.Metric[i], ""
	}
	return nil, fmt.Sprintf("%d labelled series and none without labels", len(fam.Metric))
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
