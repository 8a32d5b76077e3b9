package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/store"
	"github.com/tune-hpo/tune/trial"
)

// The files a trial's output is kept in, in its directory
// (experiment/trialrun.go writes them).
const (
	stdoutLog = "stdout.log"
	stderrLog = "stderr.log"
)

// truncatedNote starts the line the runner appends to a trial log it
// capped at Runner.MaxLogBytes.
const truncatedNote = "[tune: log truncated at "

// trialRefName returns the name of the trial of experiment exp that ref
// names: its full name (mnist-0003) or its sequence number (3, 0003).
func trialRefName(exp, ref string) (string, error) {
	n, err := strconv.Atoi(ref)
	if err != nil {
		return ref, nil
	}
	if n < 1 {
		return "", usageErrorf("trial %q: a trial number is 1 or more", ref)
	}
	return experiment.TrialName(exp, n), nil
}

// readTrial reads experiment exp and the trial ref names (see
// trialRefName), with hints when either is missing.
func readTrial(ctx context.Context, st *store.Store, exp, ref string) (*experiment.Record, *trial.Trial, error) {
	name, err := trialRefName(exp, ref)
	if err != nil {
		return nil, nil, err
	}
	rec, err := st.Experiment(ctx, exp)
	if err != nil {
		return nil, nil, notFoundHint(err, exp)
	}
	t, err := st.Trial(ctx, exp, name)
	if errors.Is(err, experiment.ErrNotFound) {
		return nil, nil, fmt.Errorf("experiment %s has no trial %q (it has %d; tune get trials %s lists them): %w", exp, ref, rec.Status.Trials, exp, err)
	}
	if err != nil {
		return nil, nil, err
	}
	return rec, t, nil
}

// trialDir returns the trial's directory as a path usable from here:
// relative directories are relative to the store's directory. It is ""
// when the trial has none.
func trialDir(st *store.Store, t *trial.Trial) string {
	if t.Dir == "" || filepath.IsAbs(t.Dir) {
		return t.Dir
	}
	return filepath.Join(filepath.Dir(st.Path()), t.Dir)
}

// missingLogError explains why trial t's log file at path cannot be read
// (err).
func missingLogError(t *trial.Trial, path string, err error) error {
	switch {
	case !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("trial %s: read log: %w", t.Name, err)
	case t.Started.IsZero() && !t.State.Final():
		return fmt.Errorf("trial %s has not started yet (status %s): %s does not exist yet (tune logs -f waits for it)", t.Name, t.State, path)
	case t.Started.IsZero():
		return fmt.Errorf("trial %s never started (status %s, reason %s): it has no log %s", t.Name, t.State, orDash(t.Reason), path)
	}
	return fmt.Errorf("trial %s: its log %s was deleted (or the trial directory moved)", t.Name, path)
}

// tailLines returns the last n lines of the file at path (at most its
// last 64 KiB are read), and whether lines before them were left out.
func tailLines(path string, n int) ([]string, bool, error) {
	const maxTail = 64 << 10
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, false, fmt.Errorf("stat %s: %w", path, err)
	}
	off := max(fi.Size()-maxTail, 0)
	buf := make([]byte, fi.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
		return nil, false, fmt.Errorf("read %s: %w", path, err)
	}
	if off > 0 {
		// Drop the partial first line.
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			buf = buf[i+1:]
		}
	}
	text := strings.TrimSuffix(string(buf), "\n")
	if text == "" {
		return []string{}, off > 0, nil
	}
	lines := strings.Split(text, "\n")
	cut := off > 0
	if len(lines) > n {
		lines, cut = lines[len(lines)-n:], true
	}
	return lines, cut, nil
}
