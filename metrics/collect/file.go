package collect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tune-hpo/tune/metrics"
)

// fileCollector follows a metrics file the trial writes, as Katib's File
// collector does, parsing each complete line.
type fileCollector struct {
	path  string // on this machine
	shown string // as the experiment names it
	parse func(line []byte, now time.Time) ([]metrics.Log, []string)
	// raw, when not nil, is given each line instead of parse (tune's
	// collector in a pod forwards the lines for tune to parse).
	raw  func(line []byte)
	emit func(metrics.Log)
	warn func(string)
}

func (c *fileCollector) Collect(ctx context.Context) {
	var offset int64
	seen := false
	lines := metrics.NewLineWriter(0, func(line []byte) {
		if c.raw != nil {
			c.raw(line)
			return
		}
		logs, invalid := c.parse(line, time.Now())
		for _, l := range logs {
			c.emit(l)
		}
		for _, bad := range invalid {
			c.warn(fmt.Sprintf("metrics file %s: %s is not a finite metric value; ignored", c.shown, bad))
		}
	})
	read := func() {
		f, err := os.Open(c.path)
		if errors.Is(err, os.ErrNotExist) {
			return
		}
		if err != nil {
			c.warn(fmt.Sprintf("metrics file %s: %v", c.shown, err))
			return
		}
		defer f.Close()
		seen = true
		if fi, err := f.Stat(); err == nil && fi.Size() < offset {
			c.warn(fmt.Sprintf("metrics file %s was truncated; reading it again from the start", c.shown))
			offset = 0
		}
		n, err := io.Copy(lines, io.NewSectionReader(f, offset, 1<<62))
		offset += n
		if err != nil {
			c.warn(fmt.Sprintf("metrics file %s: %v", c.shown, err))
		}
	}
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			read()
			lines.Close()
			if !seen {
				c.warn(fmt.Sprintf("the trial never wrote its metrics file %s (%s=%s)", c.shown, EnvMetricsPath, c.path))
			}
			return
		case <-t.C:
			read()
		}
	}
}
