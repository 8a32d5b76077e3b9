package experiment

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/tune-hpo/tune/metrics/collect"
	"github.com/tune-hpo/tune/suggest/pbt"
	"github.com/tune-hpo/tune/trial"
)

// EnvCheckpointDir is the environment variable holding, for a trial of an
// experiment with a checkpoint path ([Experiment.CheckpointPath]), its
// checkpoint directory on this machine: where the path is re-rooted.
const EnvCheckpointDir = "TUNE_CHECKPOINT_DIR"

// CheckpointPath returns the path at which each trial finds its own
// checkpoint directory, Katib's suggestion_trial_dir setting (pbt's); ""
// when the experiment's algorithm has none.
func (e *Experiment) CheckpointPath() string {
	if e.Spec.Algorithm == nil || e.Spec.Algorithm.AlgorithmName != "pbt" {
		return ""
	}
	return e.Settings()[pbt.SettingTrialDir]
}

// CheckpointDir returns where the trial whose directory is trialDir keeps
// its checkpoint directory on this machine: the checkpoint path p re-rooted
// under trialDir, as a File collector's path is
// (/var/log/katib/checkpoints/ becomes trialDir/var/log/katib/checkpoints).
func CheckpointDir(trialDir, p string) string {
	return filepath.Join(trialDir, filepath.FromSlash(path.Clean("/"+p)))
}

// checkpoint returns what an executor whose trials run elsewhere needs to
// give the trial named name, with assignment a, its checkpoint directory
// on its volume, in Katib's layout (<experiment>/<trial>); nil when the
// experiment has no absolute checkpoint path.
func (e *Experiment) checkpoint(name string, a map[string]string) *trial.Checkpoint {
	p := e.CheckpointPath()
	if !path.IsAbs(p) {
		return nil
	}
	c := &trial.Checkpoint{Path: p, Dir: path.Join(e.Metadata.Name, name)}
	if parent := a[pbt.Parent]; parent != "" {
		c.Parent = path.Join(e.Metadata.Name, path.Base(parent))
	}
	return c
}

// prepareCheckpoint gives trial t, about to start from spec in its empty
// directory, its checkpoint directory: a copy of its parent's (the trial
// its assignment names as [pbt.Parent]) or an empty one, at the checkpoint
// path inside the trial (a mount) and in [EnvCheckpointDir]. It does
// nothing for an experiment without a checkpoint path or an executor whose
// trials do not run on this machine. Problems that leave the trial able to
// start are returned as warnings.
func (s *state) prepareCheckpoint(t *trial.Trial, spec *trial.Spec) (warnings []string, err error) {
	p := s.exp.CheckpointPath()
	if _, onHost := s.r.Executor.(trial.OnHost); p == "" || !onHost || t.Dir == "" {
		return nil, nil
	}
	own := CheckpointDir(t.Dir, p)
	if parent := t.Parameters[pbt.Parent]; parent != "" {
		from := CheckpointDir(filepath.Join(filepath.Dir(t.Dir), filepath.Base(parent)), p)
		switch err := os.CopyFS(own, os.DirFS(from)); {
		case errors.Is(err, fs.ErrNotExist) && !exists(from):
			warnings = append(warnings, fmt.Sprintf("its parent %s has no checkpoint directory (%s): it starts without one", parent, from))
		case err != nil:
			return warnings, fmt.Errorf("copy the checkpoint of parent trial %s: %w", parent, err)
		}
	}
	if err := os.MkdirAll(own, 0o755); err != nil {
		return warnings, fmt.Errorf("create checkpoint directory: %w", err)
	}
	spec.Env = append(spec.Env, EnvCheckpointDir+"="+own)
	if path.IsAbs(p) {
		target := path.Clean(p)
		if err := collect.CheckMountTarget(filepath.FromSlash(target)); err != nil {
			warnings = append(warnings, fmt.Sprintf("its checkpoint directory is not made to appear at %s: %v", p, err))
		} else {
			spec.Mounts = append(spec.Mounts, trial.Mount{Source: own, Target: target})
		}
	}
	return warnings, nil
}

// exists reports whether name exists.
func exists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}
