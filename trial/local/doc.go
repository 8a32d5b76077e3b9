// Package local implements [trial.Executor] by running each trial as a
// process on this machine: the primary container's command and args of a
// Katib trialSpec that is a batch/v1 Job. It is tune's default executor.
//
// # What is run
//
// The trial's [trial.Spec.Object] must be a batch/v1 Job. It is decoded
// strictly, as the Kubernetes API server would: a field the Job type does
// not have, or has with another case, is an error naming its path, and so is
// a value of the wrong type. Any other kind of workload is an error that
// points to the Kubernetes executor.
//
// Of the Job, only the primary container of the pod template counts: the
// one named by [trial.Spec.PrimaryContainer] (Katib's
// primaryContainerName), or the only container when that is empty. The
// process it describes is started directly, never through a shell, with
// argv = command + args, after Kubernetes' $(VAR) expansion (see below).
// argv[0] is found as a container runtime finds it: a name with a slash is
// a path, relative to the working directory; any other name is looked up in
// the trial's own PATH (or the usual default when it has none), skipping
// relative PATH entries.
//
// From the container the executor honours:
//
//   - command (required: there is no image, so no entrypoint to fall back
//     on) and args;
//   - env, each value able to reference the variables declared before it
//     and the runner's TUNE_* variables with $(VAR), as the kubelet
//     resolves them; valueFrom.fieldRef for metadata.name and
//     metadata.namespace, taken from the Job's metadata (the trial name and
//     "default" when the Job has none);
//   - workingDir, a relative one being relative to [Options.Dir];
//   - resources.limits (or else requests) of nvidia.com/gpu (see GPUs).
//
// It ignores: image and imagePullPolicy (the program is run from this
// machine), the other containers and the init containers, volumes and
// volume mounts, the other resources (cpu, memory: nothing is limited),
// ports, probes, security contexts, restartPolicy, and everything in the
// Job spec itself (backoffLimit, activeDeadlineSeconds, parallelism,
// completions): a trial runs once, until it ends or its context is done.
// It rejects, as an error, what cannot be done on this machine without
// changing the trial's meaning: envFrom, and valueFrom other than the two
// field references above (secrets, config maps, resource fields, files,
// other fields).
//
// # Environment and expansion
//
// The trial's environment is the base environment ([Options.Env], tune's
// own by default), then the container's env in order, then
// [trial.Spec.Env] (the TUNE_* variables set by the runner), a later entry
// replacing an earlier one with the same name; when GPUs are configured,
// CUDA_VISIBLE_DEVICES last.
//
// $(VAR) in command, args and env values is expanded exactly as the kubelet
// does: $(VAR) becomes the variable's value, $$ is an escaped $, and a
// reference to an undefined variable stays as written. Command and args see
// the container's env and the runner's variables; as in Kubernetes, where
// the image's environment is invisible to expansion, the base environment is
// not visible to it, so a template expands the same way here and in a
// cluster. Expansion happens once, before the program starts: values,
// including parameter values substituted into the template, reach the
// program byte for byte, and no shell ever sees them.
//
// # GPUs
//
// [Options.GPUs] lists the GPU ids to share between trials ([DetectGPUs]
// finds them). A trial whose container asks for k nvidia.com/gpu waits
// until k ids are free, gets them in CUDA_VISIBLE_DEVICES (comma
// separated), and gives them back when it ends. A trial asking for none
// gets CUDA_VISIBLE_DEVICES="" so that it does not take a GPU by accident.
// When no GPUs are configured CUDA_VISIBLE_DEVICES is left alone, and a
// trial asking for a GPU is an error.
//
// # Processes
//
// Each trial runs in a process group of its own. When the trial's context
// is done, the group gets SIGTERM, and SIGKILL [Options.KillGrace] later if
// the main process is still there; the result is then Killed. As when a
// container's main process ends, whatever is left of the group when the
// main process exits (background helpers, grandchildren) is killed with
// SIGKILL. On Linux the main process also gets SIGKILL if tune dies
// (PR_SET_PDEATHSIG); processes it started are not covered by that, and a
// process that leaves the group (setsid) is not covered by either.
//
// The trial's standard output and standard error are copied to the writers
// given to [Executor.Run] as they are produced; the last lines of standard
// error also go into the message of a Failed result. Standard input is
// empty.
//
// # Caveats
//
// The parent-death signal is tied to the operating-system thread that
// starts the process, not to the tune process, so [Executor.Run] keeps its
// goroutine locked to its thread from start until the process has been
// reaped: a running trial holds one thread.
//
// The package is fully supported on Linux. On other Unix systems there is no
// parent-death signal, and leftover processes are killed only once the
// main process's output is closed or KillGrace has passed. On other systems
// Run returns an error.
package local
