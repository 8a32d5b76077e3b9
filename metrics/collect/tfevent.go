package collect

import (
	"context"
	"fmt"
	"time"

	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/metrics/tfevent"
)

// eventCollector follows the TensorFlow event files a trial writes under
// its directory, as Katib's TensorFlowEvent collector does.
type eventCollector struct {
	reader *tfevent.DirReader
	shown  string // the directory as the experiment names it
	emit   func(metrics.Log)
	warn   func(string)
}

func (c *eventCollector) Collect(ctx context.Context) {
	poll := func() {
		logs, warnings := c.reader.Poll()
		for _, l := range logs {
			c.emit(l)
		}
		for _, w := range warnings {
			c.warn(w.Error())
		}
	}
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			poll()
			if c.reader.Files() == 0 {
				c.warn(fmt.Sprintf("the trial wrote no TensorFlow event file under %s (%s)", c.shown, EnvMetricsPath))
			}
			return
		case <-t.C:
			poll()
		}
	}
}
