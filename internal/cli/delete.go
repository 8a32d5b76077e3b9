package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tune-hpo/tune/store"
	"github.com/tune-hpo/tune/trial"
	"github.com/tune-hpo/tune/trial/local"
)

// deleteOptions are the inputs of tune delete experiment.
type deleteOptions struct {
	f         *factory
	name      string
	keepFiles bool
	killGrace time.Duration
}

func newDeleteExperimentCommand(f *factory) *cobra.Command {
	o := &deleteOptions{f: f}
	cmd := &cobra.Command{
		Use:     "experiment EXPERIMENT",
		Aliases: []string{"experiments", "exp"},
		Short:   "Delete an experiment, its trials and their metrics from the store, and its trial directories",
		Long: `Delete an experiment, its trials and their metrics from the store.

Before anything is deleted, a process still recorded in a trial's directory
(left by a runner that was killed) is stopped as tune resume stops it:
SIGTERM, then SIGKILL after --kill-grace. Then the trials' directories are
removed, or with --keep-files renamed to NAME.deleted-<UTC time>, so that a
later run of an experiment of the same name starts from empty directories.
A directory holding another store's process record is left as it is.`,
		Args:              exactArgs(1, "EXPERIMENT"),
		ValidArgsFunction: completeExperiments(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.name = args[0]
			return runDeleteExperiment(cmd.Context(), o)
		},
	}
	cmd.Flags().BoolVar(&o.keepFiles, "keep-files", false, "keep the trials' directories (logs, metrics files), renamed to NAME.deleted-<UTC time>")
	cmd.Flags().DurationVar(&o.killGrace, "kill-grace", 10*time.Second, "how long a trial process left running has between SIGTERM and SIGKILL")
	return cmd
}

func runDeleteExperiment(ctx context.Context, o *deleteOptions) error {
	if o.killGrace <= 0 {
		return usageErrorf("--kill-grace %s: want a positive duration", o.killGrace)
	}
	st, err := o.f.openStore(false)
	if err != nil {
		return err
	}
	defer st.Close()
	// A running experiment is not deleted under its runner's feet.
	lock, err := st.LockExperiment(o.name)
	if err != nil {
		return err
	}
	defer lock.Release()
	if _, err := st.Experiment(ctx, o.name); err != nil {
		return notFoundHint(err, o.name)
	}
	trials, err := st.Trials(ctx, o.name)
	if err != nil {
		return fmt.Errorf("delete experiment %s: %w", o.name, err)
	}
	dirs, left, err := o.stopTrials(ctx, st, trials)
	if err != nil {
		return fmt.Errorf("delete experiment %s: %w; nothing was deleted", o.name, err)
	}
	if err := st.DeleteExperiment(ctx, o.name); err != nil {
		return notFoundHint(err, o.name)
	}
	fmt.Fprintf(o.f.io.ErrOut, "experiment %s deleted\n", o.name)
	kept, err := o.clearTrialDirs(trialRoot(st), dirs, left)
	for _, k := range kept {
		fmt.Fprintf(o.f.io.ErrOut, "trial files kept in %s\n", k)
	}
	if err != nil {
		return fmt.Errorf("experiment %s was deleted from the store, but not all its trial files were cleared: %w", o.name, err)
	}
	return nil
}

// stopTrials stops what is still recorded as running in the directories of
// trials, and returns the directories to clear and those to leave alone,
// which hold another store's process record.
func (o *deleteOptions) stopTrials(ctx context.Context, st *store.Store, trials []trial.Trial) (dirs, left []string, err error) {
	ex, err := local.New(local.Options{KillGrace: o.killGrace})
	if err != nil {
		return nil, nil, err
	}
	owner := st.RealPath()
	for _, t := range trials {
		if t.Dir == "" {
			continue
		}
		dir := t.Dir
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(filepath.Dir(st.Path()), dir)
		}
		found, err := ex.Recover(ctx, &trial.Spec{Experiment: o.name, Name: t.Name, Dir: dir, Owner: owner})
		if err != nil {
			return nil, nil, err
		}
		// Recover leaves in place only a record of another store.
		if _, err := os.Lstat(filepath.Join(dir, local.ProcessRecordName)); err == nil {
			fmt.Fprintf(o.f.io.ErrOut, "warning: trial %s: %s; its directory is left as it is\n", t.Name, found)
			left = append(left, dir)
			continue
		}
		if !t.State.Final() {
			fmt.Fprintf(o.f.io.ErrOut, "trial %s: %s\n", t.Name, found)
		}
		dirs = append(dirs, dir)
	}
	return dirs, left, nil
}

// clearTrialDirs removes the trial directories dirs and the experiment's
// directory under root (which holds them and any stale ones) but for the
// directories left, or with --keep-files renames them to <dir>.deleted-<UTC
// time>. It returns the names they were kept under.
func (o *deleteOptions) clearTrialDirs(root string, dirs, left []string) ([]string, error) {
	expDir := filepath.Join(root, o.name)
	suffix := ".deleted-" + time.Now().UTC().Format("20060102T150405Z")
	var kept []string
	var errs []error
	clearPath := func(p string) {
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			return
		}
		if !o.keepFiles {
			if err := os.RemoveAll(p); err != nil {
				errs = append(errs, err)
			}
			return
		}
		to, err := renameAside(p, suffix)
		if err != nil {
			errs = append(errs, err)
			return
		}
		kept = append(kept, to)
	}
	under := func(d string) bool { return strings.HasPrefix(d, expDir+string(filepath.Separator)) }
	for _, d := range dirs {
		// Those under expDir go with it. Others are where an older tune
		// put them, in a directory stores could share: only the trial's
		// own goes, and its parent once empty.
		if !under(d) {
			clearPath(d)
			if !o.keepFiles {
				_ = os.Remove(filepath.Dir(d))
			}
		}
	}
	if !slices.ContainsFunc(left, under) {
		clearPath(expDir)
		return kept, errors.Join(errs...)
	}
	// A directory of this store's holds another store's process record
	// (only a copied or moved store file can do that): everything else in
	// the experiment's directory goes.
	entries, err := os.ReadDir(expDir)
	if err != nil {
		errs = append(errs, err)
	}
	for _, e := range entries {
		if p := filepath.Join(expDir, e.Name()); !slices.Contains(left, p) {
			clearPath(p)
		}
	}
	return kept, errors.Join(errs...)
}

// renameAside renames p to p+suffix, or p+suffix+"-N" where that is taken,
// and returns the new name.
func renameAside(p, suffix string) (string, error) {
	to := p + suffix
	for i := 2; ; i++ {
		if _, err := os.Lstat(to); errors.Is(err, fs.ErrNotExist) {
			break
		}
		to = fmt.Sprintf("%s%s-%d", p, suffix, i)
	}
	if err := os.Rename(p, to); err != nil {
		return "", err
	}
	return to, nil
}
