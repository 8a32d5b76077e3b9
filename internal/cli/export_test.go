package cli

import (
	"io"
	"time"

	"github.com/tune-hpo/tune/experiment"
)

// ProgressBlock replays events into tune run's live progress for exp, as
// if the run had started at start, and returns the lines of its status
// block at now. What the progress prints goes to w.
func ProgressBlock(w io.Writer, exp *experiment.Experiment, events []experiment.Event, start, now time.Time) []string {
	p := newProgress(w, false, 80, exp)
	p.now = func() time.Time { return now }
	p.start = start
	for _, ev := range events {
		p.event(ev)
	}
	return p.block(now)
}
