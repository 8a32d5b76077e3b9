package cli

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"
	"golang.org/x/term"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/trial"
)

// Live status block limits.
const (
	// redrawEvery is the shortest time between two redraws of the block:
	// at most 4 a second, however fast trials start and finish.
	redrawEvery = 250 * time.Millisecond
	// maxRunningShown is how many running trials the block lists; the
	// others are counted on one line.
	maxRunningShown = 10
	// defaultWidth is the width assumed of a terminal whose size cannot be
	// read.
	defaultWidth = 100
)

// progress reports a run on the error stream. Trial events are one line
// each. On a terminal (live), a status block under them redraws in place:
// the counter, counts per state, the best trial, elapsed time and ETA, and
// each running trial's latest values; the lines scroll above it. Elsewhere
// (a CI log, a pipe) each line starts with a UTC timestamp and the same
// counter, and nothing is redrawn. quiet prints nothing.
//
// event is called on the runner's goroutine; a goroutine of its own
// redraws the block while nothing happens, for the ages it shows.
type progress struct {
	w     io.Writer
	quiet bool
	live  bool
	width int
	// size, when set, returns the terminal's width now (0 when unknown),
	// read at each redraw so that a resized terminal gets lines that fit.
	size func() int
	now  func() time.Time

	objective  string
	goal       suggest.Goal
	names      []string
	strategies map[string]metrics.Strategy
	budget     int // maxTrialCount; 0 when there is none
	parallel   int
	// experiment and storePath name what a resume notice is about.
	experiment string
	storePath  string

	mu      sync.Mutex
	start   time.Time
	counts  progressCounts
	durSum  time.Duration // of the finished trials that count, for the ETA
	durN    int
	best    *experiment.OptimalTrial
	running map[string]*runningTrial
	drawn   int // lines of the block on the screen
	drawnAt time.Time
	dirty   bool
	closed  bool
	stop    chan struct{}
	done    chan struct{}
}

// progressCounts are the trial counts the counter and block show.
type progressCounts struct {
	finished     int // final trials that count towards maxTrialCount
	succeeded    int
	failed       int // Failed and MetricsUnavailable
	earlyStopped int
	killed       int
}

// runningTrial is what the block shows of a running trial.
type runningTrial struct {
	name     string
	seq      int
	params   map[string]string
	started  time.Time
	values   map[string]float64 // by strategy
	reported time.Time
	// reason is the condition the executor reports (Unschedulable,
	// ImagePullBackOff, ...; "" for none), seen at since.
	reason string
	since  time.Time
}

// newProgress returns a progress for exp printing to w, live when width
// (the terminal's, in columns) is positive.
func newProgress(w io.Writer, quiet bool, width int, exp *experiment.Experiment) *progress {
	p := &progress{
		w: w, quiet: quiet, live: !quiet && width > 0, width: width, now: time.Now,
		objective: exp.Spec.Objective.ObjectiveMetricName, goal: exp.Goal(), names: exp.MetricNames(), strategies: exp.Strategies(),
		parallel: 1, running: map[string]*runningTrial{},
	}
	if n := exp.Spec.MaxTrialCount; n != nil {
		p.budget = int(*n)
	}
	if n := exp.Spec.ParallelTrialCount; n != nil && *n > 0 {
		p.parallel = int(*n)
	}
	return p
}

// terminalSize returns a function that reads the width of the terminal w
// is open on, or nil when w is not a file.
func terminalSize(w io.Writer) func() int {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	return func() int {
		width, _, err := term.GetSize(int(f.Fd()))
		if err != nil {
			return 0
		}
		return width
	}
}

// terminalWidth returns the width in columns of the terminal w is, or 0
// when it is not one. isTerminal decides; nil asks the operating system
// (golang.org/x/term), for which only an *os.File can be a terminal, and
// TERM=dumb is none. A
// terminal whose size cannot be read is taken to be defaultWidth wide.
func terminalWidth(w io.Writer, isTerminal func(io.Writer) bool) int {
	f, isFile := w.(*os.File)
	if isTerminal == nil {
		// A dumb terminal (Emacs' shell, some CI runners) cannot move
		// the cursor: it gets the plain lines.
		isTerminal = func(io.Writer) bool {
			return isFile && term.IsTerminal(int(f.Fd())) && os.Getenv("TERM") != "dumb"
		}
	}
	if !isTerminal(w) {
		return 0
	}
	if isFile {
		if width := terminalSize(f)(); width > 0 {
			return width
		}
	}
	return defaultWidth
}

// seed counts the trials an earlier run of the experiment finished, so
// that a resumed run's counter, best value and ETA include them. Trials
// not final are left to the runner, which reports them as it replaces
// them.
func (p *progress) seed(trials []trial.Trial) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ptrs := make([]*trial.Trial, len(trials))
	for i := range trials {
		ptrs[i] = &trials[i]
		if trials[i].State.Final() {
			p.count(&trials[i])
		}
	}
	if b := experiment.BestTrial(ptrs, p.objective, p.goal, p.strategies); b != nil {
		p.best = b
	}
}

// begin starts the clock and, when live, the redrawing goroutine.
func (p *progress) begin() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.start = p.now()
	if !p.live {
		return
	}
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	go p.tick()
}

// tick redraws the block when something changed, and once a second for
// the ages it shows, until close.
func (p *progress) tick() {
	defer close(p.done)
	t := time.NewTicker(redrawEvery)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.mu.Lock()
			if now := p.now(); p.dirty || now.Sub(p.drawnAt) >= time.Second {
				p.draw(now)
			}
			p.mu.Unlock()
		}
	}
}

// close erases the block and stops redrawing; later events print nothing
// but lines. It is safe to call more than once.
func (p *progress) close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.erase()
	stop := p.stop
	p.mu.Unlock()
	if stop != nil {
		close(stop)
		<-p.done
	}
}

// Write writes b to the error stream, above the block when live: the
// block is erased first and redrawn by the next tick. It is how the rest of
// tune run prints to the error stream while the block is on the screen.
func (p *progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.live && !p.closed {
		p.erase()
		p.dirty = true
	}
	return p.w.Write(b)
}

func (p *progress) event(ev experiment.Event) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	switch ev.Kind {
	case experiment.TrialStarted:
		t := ev.Trial
		started := t.Started
		if started.IsZero() {
			started = now
		}
		p.running[t.Name] = &runningTrial{name: t.Name, seq: t.Seq, params: t.Parameters, started: started}
		p.line(now, fmt.Sprintf("trial %s started with %s", t.Name, formatParams(t.Parameters)))
	case experiment.TrialProgress:
		if r := p.running[ev.Trial.Name]; r != nil {
			r.values = experiment.TrialMetrics(ev.Trial, p.strategies)
			r.reported = ev.Reported
			p.dirty = true
		}
	case experiment.TrialStatus:
		t := ev.Trial
		r := p.running[t.Name]
		was := ""
		if r != nil {
			was = r.reason
			r.reason, r.since = t.Reason, now
			p.dirty = true
		}
		switch {
		case t.Reason != "":
			p.line(now, fmt.Sprintf("trial %s %s: %s", t.Name, t.Reason, firstLine(t.Message)))
		case was != "":
			p.line(now, fmt.Sprintf("trial %s no longer %s", t.Name, was))
		}
	case experiment.TrialFinished:
		t := ev.Trial
		delete(p.running, t.Name)
		p.count(t)
		if ev.Best != nil {
			p.best = ev.Best
		}
		line := fmt.Sprintf("trial %s %s", t.Name, t.State)
		if vals := formatMetrics(experiment.TrialMetrics(t, p.strategies), p.names); vals != "" && t.State == trial.Succeeded {
			line += ": " + vals
		} else if t.Message != "" {
			line += ": " + firstLine(t.Message)
		}
		if ev.Best != nil {
			line += fmt.Sprintf(". Best is %s with %s=%s", ev.Best.BestTrialName, p.objective, formatBest(ev.Best, p.objective))
		}
		if !p.live {
			line += "; " + p.eta(now)
		}
		p.line(now, line)
	case experiment.Warning:
		p.line(now, "warning: "+ev.Message)
	case experiment.ExperimentResumed:
		p.line(now, fmt.Sprintf("resuming experiment %s (%s, %d trials so far) from %s", p.experiment, ev.Status.Phase, ev.Trials, p.storePath))
	case experiment.ExperimentFinished:
		p.erase()
		p.closed = true
	}
}

// count adds the final trial t to the counts and, when it counts towards
// the budget, its duration to the ETA's.
func (p *progress) count(t *trial.Trial) {
	switch t.State {
	case trial.Succeeded:
		p.counts.succeeded++
	case trial.Failed, trial.MetricsUnavailable:
		p.counts.failed++
	case trial.EarlyStopped:
		p.counts.earlyStopped++
	case trial.Killed:
		p.counts.killed++
	}
	if experiment.Abandoned(t) {
		return
	}
	p.counts.finished++
	if !t.Started.IsZero() && t.Finished.After(t.Started) {
		p.durSum += t.Finished.Sub(t.Started)
		p.durN++
	}
}

// line prints one event line: above the block when live, else with a
// timestamp and the counter.
func (p *progress) line(now time.Time, s string) {
	s = p.counter() + " " + s
	if !p.live || p.closed {
		if !p.live {
			s = now.UTC().Format(time.RFC3339) + " " + s
		}
		fmt.Fprintln(p.w, escapeControl(s, false))
		return
	}
	p.erase()
	fmt.Fprintln(p.w, escapeControl(s, false))
	if now.Sub(p.drawnAt) >= redrawEvery {
		p.draw(now)
	} else {
		p.dirty = true
	}
}

// counter is "[finished/maxTrialCount]", or "[finished/?]" without a
// budget.
func (p *progress) counter() string {
	if p.budget == 0 {
		return fmt.Sprintf("[%d/?]", p.counts.finished)
	}
	return fmt.Sprintf("[%d/%d]", p.counts.finished, p.budget)
}

// etaDuration estimates the time left: the trials still to finish times
// the mean duration of the finished ones, less the time the running ones
// have already run (at most the mean each), shared among the trials that
// can run at once. ok is false before a trial finished or without a
// budget.
func (p *progress) etaDuration(now time.Time) (time.Duration, bool) {
	if p.budget == 0 || p.durN == 0 {
		return 0, false
	}
	remaining := p.budget - p.counts.finished
	if remaining <= 0 {
		return 0, true
	}
	mean := p.durSum / time.Duration(p.durN)
	work := time.Duration(remaining) * mean
	for _, r := range p.running {
		work -= min(max(now.Sub(r.started), 0), mean)
	}
	return max(work, 0) / time.Duration(min(p.parallel, remaining)), true
}

// eta is "ETA <duration>" or why there is none.
func (p *progress) eta(now time.Time) string {
	switch d, ok := p.etaDuration(now); {
	case ok:
		return "ETA " + d.Round(time.Second).String()
	case p.budget == 0:
		return "ETA unknown (no maxTrialCount)"
	}
	return "ETA unknown until a trial finishes"
}

// block returns the status block's lines at now.
func (p *progress) block(now time.Time) []string {
	c := p.counts
	lines := []string{
		fmt.Sprintf("%s %d running, %d succeeded, %d early-stopped, %d failed, %d killed", p.counter(), len(p.running), c.succeeded, c.earlyStopped, c.failed, c.killed),
	}
	if b := p.best; b != nil {
		lines = append(lines, fmt.Sprintf("best %s=%s in %s (%s)", p.objective, formatBest(b, p.objective), b.BestTrialName, formatParams(b.ParameterAssignments)))
	} else {
		lines = append(lines, fmt.Sprintf("best %s: none yet", p.objective))
	}
	lines = append(lines, fmt.Sprintf("elapsed %s, %s", now.Sub(p.start).Round(time.Second), p.eta(now)))
	if len(p.running) == 0 {
		return lines
	}
	running := make([]*runningTrial, 0, len(p.running))
	for _, r := range p.running {
		running = append(running, r)
	}
	slices.SortFunc(running, func(a, b *runningTrial) int { return a.seq - b.seq })
	tw := table.NewWriter()
	tw.SetStyle(table.StyleLight)
	tw.Style().Options = table.Options{}
	tw.Style().Box.PaddingLeft, tw.Style().Box.PaddingRight = "", "  "
	tw.AppendHeader(table.Row{"RUNNING", "LATEST", "REPORTED", "PARAMETERS"})
	for i, r := range running {
		if i == maxRunningShown {
			tw.AppendRow(table.Row{fmt.Sprintf("… and %d more", len(running)-i), "", "", ""})
			break
		}
		values, reported := "-", fmt.Sprintf("none in %s", now.Sub(r.started).Round(time.Second))
		if len(r.values) > 0 {
			values = formatMetrics(r.values, p.names)
			reported = fmt.Sprintf("%s ago", max(now.Sub(r.reported), 0).Round(time.Second))
		}
		if r.reason != "" {
			reported = fmt.Sprintf("%s for %s", r.reason, max(now.Sub(r.since), 0).Round(time.Second))
		}
		tw.AppendRow(table.Row{r.name, values, reported, formatParams(r.params)})
	}
	for l := range strings.Lines(tw.Render()) {
		lines = append(lines, "  "+strings.TrimRight(l, " \n"))
	}
	return lines
}

// draw replaces the block on the screen with the one at now.
func (p *progress) draw(now time.Time) {
	if !p.live || p.closed {
		return
	}
	p.erase()
	if p.size != nil {
		if width := p.size(); width > 0 {
			p.width = width
		}
	}
	var b strings.Builder
	for _, l := range p.block(now) {
		// One screen row each, so that erase knows how far up to go.
		b.WriteString(text.Snip(escapeControl(l, false), p.width-1, "…"))
		b.WriteString("\n")
		p.drawn++
	}
	fmt.Fprint(p.w, b.String())
	p.drawnAt, p.dirty = now, false
}

// erase removes the block from the screen, leaving the cursor where its
// first line was.
func (p *progress) erase() {
	if p.drawn == 0 {
		return
	}
	fmt.Fprint(p.w, "\r"+text.CursorUp.Sprintn(p.drawn)+eraseDown)
	p.drawn = 0
}

// eraseDown is the ANSI sequence that erases from the cursor to the end of
// the screen (ED 0).
const eraseDown = "\x1b[J"
