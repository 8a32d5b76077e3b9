package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tune-hpo/tune/trial"
	"github.com/tune-hpo/tune/trial/pipeline"
)

// logsPollInterval is how often tune logs -f looks for new output and
// for the trial's end.
const logsPollInterval = 200 * time.Millisecond

type logsOptions struct {
	f          *factory
	experiment string
	trial      string
	step       string
	follow     bool
	stderr     bool
	tail       int
	poll       time.Duration
}

func newLogsCommand(f *factory) *cobra.Command {
	o := &logsOptions{f: f, poll: logsPollInterval}
	cmd := &cobra.Command{
		Use:   "logs EXPERIMENT TRIAL",
		Short: "Print a trial's output (stdout, or stderr with --stderr)",
		Long: `Print what a trial wrote to its standard output (stdout.log in its
directory), or to its standard error with --stderr. With -f, keep printing
what it writes while it runs, from another terminal than the one running
tune run, and stop once the trial has ended and its log is printed to the
end (or on Ctrl-C). A trial that has not started yet is waited for.

Written to a terminal, control characters in the log are shown escaped;
written to a pipe or a file, the log's bytes are copied as they are.
A log the runner capped at its size limit ends with a line saying so.

A pipeline trial (an Argo Workflow or a Kubeflow pipeline run locally)
keeps each step's output in a directory of its own: --step NAME prints that
step's log instead of the trial's (NAME is the task or step name, train,
or the node name Argo gives it, pipeline-mlp-0004.train; without a match
the error lists the trial's steps).

TRIAL is the trial's name (mnist-0003) or its number (3).`,
		Example: "  tune logs mnist 3\n  tune logs mnist mnist-0003 --stderr\n  tune logs -f mnist 12\n  tune logs pipeline-mlp 4 --step train",
		Args:    exactArgs(2, "EXPERIMENT and TRIAL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.experiment, o.trial = args[0], args[1]
			return runLogs(cmd.Context(), o)
		},
	}
	cmd.Flags().StringVar(&o.step, "step", "", "print this pipeline step's log (task or node name) instead of the trial's")
	cmd.Flags().BoolVarP(&o.follow, "follow", "f", false, "keep printing the log while the trial runs")
	cmd.Flags().BoolVar(&o.stderr, "stderr", false, "print the trial's standard error instead of its standard output")
	cmd.Flags().IntVar(&o.tail, "tail", -1, "print only the last N lines (then follow, with -f); -1 prints the whole log")
	return cmd
}

// readTrialState reads the trial's record from a store opened for the
// moment only, so that the runner is never kept waiting.
func (o *logsOptions) readTrialState(ctx context.Context) (*trial.Trial, string, error) {
	st, err := o.f.readStore()
	if err != nil {
		return nil, "", err
	}
	defer st.Close()
	_, t, err := readTrial(ctx, st, o.experiment, o.trial)
	if err != nil {
		return nil, "", err
	}
	return t, trialDir(st, t), nil
}

func runLogs(ctx context.Context, o *logsOptions) error {
	if o.tail < -1 {
		return usageErrorf("--tail: %d is not a number of lines (0 or more, or -1 for all)", o.tail)
	}
	t, dir, err := o.readTrialState(ctx)
	if err != nil {
		return err
	}
	if dir == "" {
		return fmt.Errorf("trial %s has no directory, so no logs (status %s; trials run by this version of tune always have one)", t.Name, t.State)
	}
	name := stdoutLog
	if o.stderr {
		name = stderrLog
	}
	logDir := dir
	if o.step != "" {
		if logDir, err = o.stepDir(ctx, dir, t); err != nil {
			return err
		}
	}
	path := filepath.Join(logDir, name)
	out := o.f.io.Out
	var esc *lineEscaper
	if isTerminal(out) {
		esc = &lineEscaper{w: out}
		out = esc
	}
	var off int64
	seen := false
	for {
		final := t.State.Final()
		if !seen && o.tail >= 0 {
			if off, err = lastLinesOffset(path, o.tail); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("trial %s: %w", t.Name, err)
			}
		}
		n, err := copyFrom(path, off, out)
		switch {
		case errors.Is(err, os.ErrNotExist) && (!o.follow || final && !seen):
			return missingLogError(t, path, err)
		case errors.Is(err, os.ErrNotExist):
			// Not created yet (or replaced); wait.
		case err != nil:
			return fmt.Errorf("trial %s: %w", t.Name, err)
		default:
			seen = true
			off = n
		}
		if !o.follow || final {
			break
		}
		select {
		case <-ctx.Done():
			if esc != nil {
				esc.flush()
			}
			return &codeError{code: exitInterrupted}
		case <-time.After(o.poll):
		}
		if t, _, err = o.readTrialState(ctx); err != nil {
			return err
		}
	}
	if esc != nil {
		if err := esc.flush(); err != nil {
			return err
		}
	}
	if last, _, err := tailLines(path, 1); err == nil && len(last) == 1 && strings.HasPrefix(last[0], truncatedNote) {
		fmt.Fprintf(o.f.io.ErrOut, "tune: note: the runner kept only the start of this log (its size limit); the rest of the output was read for metrics but not kept\n")
	}
	return nil
}

// copyFrom copies the file at path from offset off to its current end to
// w and returns the offset reached. A file shorter than off (replaced) is
// copied from its start.
func copyFrom(path string, off int64, w io.Writer) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return off, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return off, fmt.Errorf("stat %s: %w", path, err)
	}
	if fi.Size() < off {
		off = 0
	}
	n, err := io.Copy(w, io.NewSectionReader(f, off, fi.Size()-off))
	if err != nil {
		return off + n, fmt.Errorf("copy %s: %w", path, err)
	}
	return off + n, nil
}

// lastLinesOffset returns the offset in the file at path where its last
// n lines start (a last line without a newline counts as one).
func lastLinesOffset(path string, n int) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("stat %s: %w", path, err)
	}
	end := fi.Size()
	if n == 0 {
		return end, nil
	}
	buf := make([]byte, 64<<10)
	pos, newlines := end, 0
	for pos > 0 {
		size := min(int64(len(buf)), pos)
		pos -= size
		if _, err := f.ReadAt(buf[:size], pos); err != nil && !errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("read %s: %w", path, err)
		}
		for i := size - 1; i >= 0; i-- {
			if buf[i] != '\n' || pos+i == end-1 {
				continue // the last line's own newline does not start a line
			}
			if newlines++; newlines == n {
				return pos + i + 1, nil
			}
		}
	}
	return 0, nil
}

// lineEscaper writes complete lines to w with control characters escaped
// (tabs kept), holding back a partial last line until it ends or flush.
type lineEscaper struct {
	w       io.Writer
	partial []byte
}

func (l *lineEscaper) Write(p []byte) (int, error) {
	l.partial = append(l.partial, p...)
	i := bytes.LastIndexByte(l.partial, '\n')
	if i < 0 {
		return len(p), nil
	}
	if err := l.emit(l.partial[:i+1]); err != nil {
		return 0, err
	}
	l.partial = append(l.partial[:0], l.partial[i+1:]...)
	return len(p), nil
}

// flush writes the held-back partial line, if any, ending it.
func (l *lineEscaper) flush() error {
	if len(l.partial) == 0 {
		return nil
	}
	err := l.emit(append(l.partial, '\n'))
	l.partial = l.partial[:0]
	return err
}

func (l *lineEscaper) emit(lines []byte) error {
	parts := strings.Split(string(lines), "\t")
	for i := range parts {
		parts[i] = escapeControl(parts[i], true)
	}
	_, err := io.WriteString(l.w, strings.Join(parts, "\t"))
	return err
}

// stepDir returns the directory of the step of trial t (directory dir)
// that o.step designates: a step directory named so, else the one whose
// node name ends in "."+o.step (the task or step name under Argo's node
// naming, "<workflow>.<task>"), its last attempt when the step was retried
// ("<workflow>.<task>(1)"). Names are compared as the step directories
// spell them (characters other than letters, digits, ".", "_" and "-"
// become "_"). With -f, a trial still running is waited on until the step
// appears.
func (o *logsOptions) stepDir(ctx context.Context, dir string, t *trial.Trial) (string, error) {
	name := pipeline.StepDirName(o.step)
	for {
		steps, err := stepNames(dir)
		if err != nil {
			return "", fmt.Errorf("trial %s: %w", t.Name, err)
		}
		var match []string
		base, last := "", -1
		for _, s := range steps {
			if s == name {
				return filepath.Join(dir, pipeline.StepsDir, s), nil
			}
			b, attempt := s, -1
			if m := retryAttempt.FindStringSubmatch(s); m != nil {
				b, attempt = m[1], atoiOr(m[2], -1)
			}
			if strings.HasSuffix(b, "."+name) || b == name {
				match = append(match, s)
				if base == "" || base == b {
					base = b
					last = max(last, attempt)
				} else {
					base = "\x00" // several steps, not attempts of one
				}
			}
		}
		switch {
		case len(match) == 1:
			return filepath.Join(dir, pipeline.StepsDir, match[0]), nil
		case len(match) > 1 && base != "\x00" && last >= 0:
			return filepath.Join(dir, pipeline.StepsDir, fmt.Sprintf("%s_%d_", base, last)), nil
		case len(match) > 1:
			return "", usageErrorf("--step %q matches several steps of trial %s: %s; give the full name", o.step, t.Name, strings.Join(match, ", "))
		case o.follow && !t.State.Final():
			select {
			case <-ctx.Done():
				return "", &codeError{code: exitInterrupted}
			case <-time.After(o.poll):
			}
			var err error
			if t, _, err = o.readTrialState(ctx); err != nil {
				return "", err
			}
			continue
		case len(steps) == 0:
			return "", fmt.Errorf("trial %s has no steps: --step is for pipeline trials (Argo Workflow or Kubeflow pipeline templates run locally)", t.Name)
		}
		return "", usageErrorf("--step %q: trial %s has no such step (it has %s)", o.step, t.Name, strings.Join(steps, ", "))
	}
}

// retryAttempt matches the directory of a retried step's attempt, the
// node "<name>(N)" as a step directory spells it.
var retryAttempt = regexp.MustCompile(`^(.*)_([0-9]+)_$`)

// atoiOr is s as an int, or def when it is not one.
func atoiOr(s string, def int) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return def
	}
	return n
}

// stepNames lists the step directories of the trial directory dir,
// sorted; none when dir has no steps directory.
func stepNames(dir string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(dir, pipeline.StepsDir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names, nil
}
