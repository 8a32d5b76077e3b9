package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tune-hpo/tune/trial"
)

// ProcessRecordName is the name of the file, in a trial's directory
// ([trial.Spec.Dir]), that records the process group of the trial's
// running process for [Executor.Recover]. It is non-empty only while a
// process of the trial runs: once the process is reaped the file is
// emptied, not removed, and an empty or missing record means no process.
const ProcessRecordName = ".tune-process"

// processRecord is the content of the process record: enough to find the
// trial's process group again and never to mistake another one for it.
type processRecord struct {
	// PGID is the process group id, which is also the pid of the trial's
	// main process (its leader).
	PGID int `json:"pgid"`
	// StartTime is when the leader started, in clock ticks after boot
	// (field 22 of /proc/PID/stat); 0 where unknown.
	StartTime uint64 `json:"startTime,omitempty"`
	// Session is the leader's session id, which every member of its group
	// shares; 0 where unknown.
	Session int `json:"session,omitempty"`
	// BootID identifies the boot the process ran in
	// (/proc/sys/kernel/random/boot_id); "" where unknown.
	BootID string `json:"bootID,omitempty"`
	// Owner is the [trial.Spec.Owner] of the trial that started the
	// process: the store it belongs to; "" where unknown (records written
	// before tune recorded it).
	Owner string `json:"owner,omitempty"`
	// Container names the container the process runs the trial in, when
	// a container runtime does; nil otherwise.
	Container *containerRef `json:"container,omitempty"`
}

// containerRef names a container and the runtime that runs it.
type containerRef struct {
	Runtime Runtime `json:"runtime"`
	Name    string  `json:"name"`
}

// recordProcess writes the process record of the group led by pid, started
// for owner ([trial.Spec.Owner]) and running container ctr (nil: none),
// into dir.
//
// The record is written in place, with one write of a few hundred bytes,
// which a crash of the runner does not split: a runner that dies between
// the open and the write leaves an empty record, read as no process, as
// one that dies just before recording. It is not synced: the record
// matters only while its process runs, which a machine crash ends, and a
// record that a crash left empty or from an earlier boot (BootID) is read
// as no process (see [readRecord]). The sync cost more than starting a
// short trial's process.
func recordProcess(dir string, pid int, owner string, ctr *containerRef) error {
	rec, err := newRecord(pid)
	if err != nil {
		return fmt.Errorf("record trial process %d: %w", pid, err)
	}
	rec.Owner = owner
	rec.Container = ctr
	data, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("record trial process %d: %w", pid, err)
	}
	if err := os.WriteFile(filepath.Join(dir, ProcessRecordName), data, 0o644); err != nil {
		return fmt.Errorf("record trial process %d: %w", pid, err)
	}
	return nil
}

// readRecord reads the process record in dir; nil when there is none or
// it is empty. Records are replaced atomically but not synced, so only a
// machine crash leaves one empty, and no process of the boot before a
// crash runs.
func readRecord(dir string) (*processRecord, error) {
	name := filepath.Join(dir, ProcessRecordName)
	data, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read process record: %w", err)
	}
	if len(data) == 0 {
		return nil, nil
	}
	var rec processRecord
	if err := json.Unmarshal(data, &rec); err != nil || rec.PGID <= 1 {
		if err == nil {
			err = fmt.Errorf("invalid process group id %d", rec.PGID)
		}
		return nil, fmt.Errorf("process record %s is unreadable (%w): check that no process of the trial is left, then remove it", name, err)
	}
	return &rec, nil
}

// clearRecord empties the process record in dir, if any, once its process
// group is gone. It is emptied rather than removed: on ext4 without a
// journal, a file deleted in the last minutes makes every later file
// creation on the filesystem scan past its inode, so that one deletion
// per trial made creating each trial's directory and logs cost in
// proportion to the trials of the last minutes.
func clearRecord(dir string) error {
	err := os.Truncate(filepath.Join(dir, ProcessRecordName), 0)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("empty process record: %w", err)
	}
	return nil
}

// removeRecord removes the process record in dir, if any.
func removeRecord(dir string) error {
	err := os.Remove(filepath.Join(dir, ProcessRecordName))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove process record: %w", err)
	}
	return nil
}

// recoverSettle bounds how long Recover waits for a process group to
// vanish after SIGKILL.
const recoverSettle = 5 * time.Second

// recoverPoll is how often Recover looks at a process group it stops.
const recoverPoll = 20 * time.Millisecond

// Recover deals with what is left of the trial spec after the runner that
// ran it died, as [trial.Recoverer] asks. It reads the process record that
// [Executor.Run] keeps in spec.Dir while a process of the trial runs (see
// [ProcessRecordName]):
//
//   - no record: nothing of the trial runs, and Recover says so;
//   - a record of another owner (its owner and spec.Owner both non-empty
//     and different: another store's trial in the same directory): Recover
//     says so and leaves the record and its process group alone;
//   - a record whose process group has no live member left: Recover says
//     the group had already exited;
//   - live members: Recover stops the group as a cancelled trial is
//     stopped (SIGTERM, then SIGKILL after [Options.KillGrace], or at once
//     when ctx is done) and says so. A local trial is never re-attached:
//     its output went to pipes of the runner that died.
//
// When the record names a container (a container runtime ran the trial),
// Recover then stops and removes it by name, as its client's death does
// not stop it, and its sentence says so: "...; its podman container NAME
// was still there and was stopped and removed" or "... was already gone".
// It then removes the record. A Workflow trial's steps keep
// their records in their own directories (Dir/steps/<step>/), which
// Recover deals with in the same way; its sentence then names each step
// whose record it found: "step S: ...; step T: ...". On Linux the members are found in /proc, and
// a group is recognised as the trial's by its leader's start time, its
// session and the boot it ran in, so that a reused process id is never
// mistaken for the trial's. Elsewhere on Unix only the group id is checked.
// The error is non-nil when spec is nil, the record cannot be read, or the
// group cannot be stopped.
func (e *Executor) Recover(ctx context.Context, spec *trial.Spec) (string, error) {
	if spec == nil {
		return "", errors.New("recover trial: no trial spec")
	}
	if spec.Dir == "" {
		return "no process record, the trial having no directory; nothing of it was looked for", nil
	}
	found, err := e.recoverDir(ctx, spec, spec.Dir)
	if err != nil {
		return "", err
	}
	// A Workflow trial's steps keep their records in their own
	// directories, Dir/steps/<step>/.
	steps, err := filepath.Glob(filepath.Join(spec.Dir, "steps", "*", ProcessRecordName))
	if err != nil {
		return "", fmt.Errorf("recover trial %s: %w", spec.Name, err)
	}
	var stepFound []string
	for _, rec := range steps {
		dir := filepath.Dir(rec)
		msg, err := e.recoverDir(ctx, spec, dir)
		if err != nil {
			return "", err
		}
		stepFound = append(stepFound, fmt.Sprintf("step %s: %s", filepath.Base(dir), msg))
	}
	if len(stepFound) > 0 {
		return strings.Join(stepFound, "; "), nil
	}
	return found, nil
}

// recoverDir deals with the process record in dir, as Recover describes.
func (e *Executor) recoverDir(ctx context.Context, spec *trial.Spec, dir string) (string, error) {
	rec, err := readRecord(dir)
	if err != nil {
		return "", fmt.Errorf("recover trial %s: %w", spec.Name, err)
	}
	if rec == nil {
		// An empty record, left by a machine crash, goes too.
		if err := removeRecord(dir); err != nil {
			return "", fmt.Errorf("recover trial %s: %w", spec.Name, err)
		}
		return "no process record; the trial's process had not started or had already exited", nil
	}
	if !ownedBy(rec, spec.Owner) {
		return fmt.Sprintf("the process record in %s belongs to another store (%s), so its process group %d was left alone", dir, rec.Owner, rec.PGID), nil
	}
	n, err := liveMembers(rec)
	if err != nil {
		return "", fmt.Errorf("recover trial %s: %w", spec.Name, err)
	}
	found := fmt.Sprintf("process group %d had already exited", rec.PGID)
	if n != 0 {
		if err := e.stopGroup(ctx, rec); err != nil {
			return "", fmt.Errorf("recover trial %s: %w", spec.Name, err)
		}
		count := ""
		switch {
		case n == 1:
			count = " (1 process)"
		case n > 1:
			count = fmt.Sprintf(" (%d processes)", n)
		}
		found = fmt.Sprintf("process group %d%s was still running and was stopped: its output went to the runner that died, so it cannot be re-attached", rec.PGID, count)
	}
	if c := rec.Container; c != nil {
		// The client is gone, but its container may not be: a container's
		// engine keeps it running without its client.
		had, err := removeContainer(ctx, c.Runtime, c.Name, e.killGrace)
		if err != nil {
			return "", fmt.Errorf("recover trial %s: %w", spec.Name, err)
		}
		if had {
			found += fmt.Sprintf("; its %s container %s was still there and was stopped and removed", c.Runtime, c.Name)
		} else {
			found += fmt.Sprintf("; its %s container %s was already gone", c.Runtime, c.Name)
		}
	}
	if err := removeRecord(dir); err != nil {
		return "", fmt.Errorf("recover trial %s: %w", spec.Name, err)
	}
	return found, nil
}

// ownedBy reports whether rec may be acted on for owner: either is unknown
// ("") or they are the same.
func ownedBy(rec *processRecord, owner string) bool {
	return rec.Owner == "" || owner == "" || rec.Owner == owner
}

// stopGroup stops the process group of rec: SIGTERM, then SIGKILL once the
// kill grace has passed or ctx is done, and waits for it to vanish.
func (e *Executor) stopGroup(ctx context.Context, rec *processRecord) error {
	gone := func() (bool, error) {
		n, err := liveMembers(rec)
		return n == 0, err
	}
	if err := termGroup(rec.PGID); errors.Is(err, os.ErrProcessDone) {
		return nil
	} else if err != nil {
		return err
	}
	ok, err := pollUntil(ctx, e.killGrace, gone)
	if ok || err != nil {
		return err
	}
	if err := killGroup(rec.PGID); errors.Is(err, os.ErrProcessDone) {
		return nil
	} else if err != nil {
		return err
	}
	ok, err = pollUntil(context.WithoutCancel(ctx), recoverSettle, gone)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("process group %d still has live processes %s after SIGKILL", rec.PGID, recoverSettle)
	}
	return nil
}

// pollUntil calls cond every recoverPoll until it returns true, d has
// passed or ctx is done.
func pollUntil(ctx context.Context, d time.Duration, cond func() (bool, error)) (bool, error) {
	timeout := time.NewTimer(d)
	defer timeout.Stop()
	tick := time.NewTicker(recoverPoll)
	defer tick.Stop()
	for {
		if ok, err := cond(); ok || err != nil {
			return ok, err
		}
		select {
		case <-tick.C:
		case <-timeout.C:
			return cond()
		case <-ctx.Done():
			return cond()
		}
	}
}
