package local

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tune-hpo/tune/trial"
)

// The mount helper is this package's own code run in a separate process:
// the executor starts [Options.MountHelper] with argv[0] set to
// mountHelperArg0 and, in the variable mountHelperEnv, the number of an
// inherited descriptor from which the helper reads its instructions, a
// helperConfig as JSON. [RunMountHelper] acts only when both are present.
// Nothing of the trial's argv goes through the environment, so its size
// is not limited by the kernel's limit on one environment string.
const (
	mountHelperArg0 = "tune-local-mount-helper"
	mountHelperEnv  = "TUNE_LOCAL_MOUNT_HELPER"
)

// The descriptors the helper inherits (os/exec's ExtraFiles start at 3).
const (
	helperStatusFD = 3
	helperConfigFD = 4
)

// helperConfig is what the executor tells the mount helper.
type helperConfig struct {
	// Probe, when not empty, asks the helper only to find out whether it
	// can mount: it makes the mount tree private, mounts a tmpfs on the
	// directory Probe and exits 0.
	Probe string `json:",omitempty"`
	// Mounts are set up in order before Path is executed.
	Mounts []trial.Mount `json:",omitempty"`
	// Path and Argv are the trial's program and its argv (argv[0]
	// included); its environment is the helper's own, less
	// mountHelperEnv.
	Path string   `json:",omitempty"`
	Argv []string `json:",omitempty"`
	// Pdeathsig, when not 0, is the parent-death signal the program gets,
	// and Parent the pid of the executor that must be alive when it does.
	Pdeathsig int `json:",omitempty"`
	Parent    int `json:",omitempty"`
}

// probedStage is the stage of the status with which the helper reports a
// successful probe.
const probedStage = "probed"

// helperStatus is what the helper reports when it cannot run the trial,
// or after a successful probe.
type helperStatus struct {
	// Stage is "mount" when the mounts could not be set up, "exec" when
	// the program could not be executed, probedStage after a probe.
	Stage string
	Error string
}

// helperError is a failure of the mount helper to run the trial's program.
type helperError struct {
	stage string // "mount", "exec" or "helper"
	msg   string
}

func (e *helperError) Error() string { return e.msg }

// checkMounts reports whether ms are mounts the executor can be asked for:
// absolute, distinct targets and absolute sources.
func checkMounts(ms []trial.Mount) error {
	seen := make(map[string]bool, len(ms))
	for _, m := range ms {
		if !filepath.IsAbs(m.Source) {
			return fmt.Errorf("mount source %q is not an absolute path", m.Source)
		}
		if !filepath.IsAbs(m.Target) {
			return fmt.Errorf("mount target %q is not an absolute path", m.Target)
		}
		t := filepath.Clean(m.Target)
		if t == "/" {
			return fmt.Errorf("mount target %q is the root directory", m.Target)
		}
		if seen[t] {
			return fmt.Errorf("mount target %q listed twice", m.Target)
		}
		seen[t] = true
	}
	return nil
}

// MountsSupported reports whether trials run by e get the mounts their
// spec asks for ([trial.Spec.Mounts]) and, when they do not, why. A runner
// that asks for mounts should warn once when it is false: trials then run
// without them and must write to the re-rooted paths they are given in
// their environment. With a container runtime mounts are always
// supported: they are the container's bind mounts. The first call finds out by starting the mount helper
// once (see the package documentation, Mounts); later calls return the
// same answer.
func (e *Executor) MountsSupported() (bool, string) {
	if e.runtime.container() {
		return true, "" // they are the container's bind mounts
	}
	e.mountOnce.Do(func() {
		if e.mountHelper == "" {
			e.mountReason = "no mount helper is configured (Options.MountHelper)"
			return
		}
		mode, err := e.mountProbe()
		if err != nil {
			e.mountReason = err.Error()
			return
		}
		e.mountMode = mode
		e.mountOK = true
	})
	return e.mountOK, e.mountReason
}

// withoutEnv returns env without the entries for key.
func withoutEnv(env []string, key string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return k == key
	})
}

// mountMode is how trials with mounts are started, found by the probe.
type mountMode struct {
	// userNS is true when the trial gets a user namespace of its own as
	// well as a mount namespace (always, unless tune runs as root and may
	// create a mount namespace without one).
	userNS bool
}

// helperStart is the executor's side of a trial started through the mount
// helper.
type helperStart struct {
	status     *os.File // read end of the status pipe
	statusW    *os.File // write end, the helper's helperStatusFD
	config     *os.File // the helper's helperConfigFD
	closedEnds bool
}

// started closes the parent's copies of the helper's descriptors, once the
// helper has been started.
func (h *helperStart) started() {
	if !h.closedEnds {
		h.statusW.Close()
		h.config.Close()
		h.closedEnds = true
	}
}

// wait waits until the helper has executed the trial's program, and
// returns a *helperError when it could not. A helper killed before it
// could say anything (the trial was cancelled) counts as a success: the
// caller then learns how the process ended from its wait status.
func (h *helperStart) wait() error {
	h.started()
	data, err := io.ReadAll(io.LimitReader(h.status, 64<<10))
	if err != nil {
		return &helperError{stage: "helper", msg: fmt.Sprintf("read mount helper status: %v", err)}
	}
	if len(data) == 0 {
		return nil
	}
	var st helperStatus
	if err := json.Unmarshal(data, &st); err != nil {
		return &helperError{stage: "helper", msg: fmt.Sprintf("mount helper: unexpected status %q", data)}
	}
	return &helperError{stage: st.Stage, msg: st.Error}
}

// close releases what is left of the helper's descriptors.
func (h *helperStart) close() {
	h.started()
	h.status.Close()
}
