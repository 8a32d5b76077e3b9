// Package local implements [trial.Executor] by running each trial on this
// machine: the primary container's command and args of a Katib trialSpec
// that is a batch/v1 Job as one process, or an argoproj.io/v1alpha1
// Workflow as a DAG of processes (see Workflows). It is tune's default
// executor.
//
// # What is run
//
// The trial's [trial.Spec.Object] must be a batch/v1 Job or an Argo
// Workflow. It is decoded strictly by trial/manifest, as the Kubernetes API
// server would: a field the type does not have, or has with another case,
// is an error naming its path, and so is a value of the wrong type. Any
// other kind of workload is an error that points to the Kubernetes
// executor. The rest of this section, and the sections up to Workflows,
// describe Jobs; a Workflow's steps are each run as a Job's process is.
//
// Of the Job's containers, only the primary container of the pod template
// counts: the one named by [trial.Spec.PrimaryContainer] (Katib's
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
// From the Job spec it honours activeDeadlineSeconds and backoffLimit
// (see Deadline and retries), and from the pod template's spec
// activeDeadlineSeconds.
//
// It ignores: image and imagePullPolicy (the program is run from this
// machine; with a container runtime they are honoured, see Containers),
// the other containers and the init containers, volumes and
// volume mounts, the other resources (cpu, memory: nothing is limited),
// ports, probes, security contexts, restartPolicy (a retry is always a new
// process, as with Never), and the rest of the Job spec (parallelism,
// completions, podFailurePolicy, ...): a trial is one process at a time.
//
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
// # Deadline and retries
//
// The Job's spec.activeDeadlineSeconds, and its pod template's
// spec.template.spec.activeDeadlineSeconds, limit how long the trial runs;
// when both are set the smaller wins. The limit counts from the start of
// the first attempt and covers every attempt and the delays between them,
// as a Job's deadline does. When it passes, the running process group is
// stopped as on cancellation (SIGTERM, then SIGKILL after
// [Options.KillGrace]) and the trial is Failed with reason
// DeadlineExceeded and a message naming the limit, "trial exceeded
// activeDeadlineSeconds=N (FIELD) and was stopped", followed by the last
// lines of standard error. This differs from Kubernetes in one respect: a
// pod's own activeDeadlineSeconds applies to each pod there, and a pod
// that exceeds it is retried; here either limit ends the trial. Both must
// be positive ([Executor.Check] says so otherwise).
//
// The Job's spec.backoffLimit is how many times a failed attempt is
// retried: backoffLimit N allows N+1 attempts, as a Job with restartPolicy
// Never does. Only failures are retried (an exit status other than 0, a
// signal tune did not send, a program that cannot start); a trial that is
// cancelled (Killed) or exceeds its deadline is not. Each retry starts
// after a delay that doubles from [Options.RetryDelay] (10 s by default)
// up to 6 minutes, as Kubernetes' Job controller waits 10 s, 20 s, 40 s,
// ..., and [trial.Spec.OnRetry] is called just before it starts. The
// standard output and error of every attempt go to the same writers,
// with nothing added between them. When the last attempt fails its
// message starts "failed after N attempts: " if there were several.
// Cancellation during a delay stops the trial at once (Killed).
//
// Unlike Kubernetes, which defaults an unset backoffLimit to 6, the local
// executor does not retry a trial whose Job sets no backoffLimit: a local
// program that fails usually fails the same way every time, and six
// retries with growing delays would spend more than ten minutes proving
// it. Set backoffLimit to retry flaky trials.
//
// GPUs are held from the first attempt to the end of the last, delays
// included.
//
// # Processes
//
// Each attempt runs in a process group of its own whose id is the main
// process's pid. When the trial's context is done, the group gets SIGTERM,
// and SIGKILL [Options.KillGrace] later if the main process is still
// there; the result is then Killed. As when a container's main process
// ends, whatever is left of the group when the main process exits
// (background helpers, grandchildren) is killed with SIGKILL. So when tune
// is stopped by Ctrl-C, which cancels the trials' contexts, every member
// of every trial's process group is stopped before tune exits.
//
// When tune itself is killed (kill -9, a crash, the OOM killer), nothing of
// tune runs to stop the group. On Linux the trial's main process is
// killed by the kernel (PR_SET_PDEATHSIG, SIGKILL) as soon as tune dies;
// the processes it started are not covered by that, since the parent-death
// signal is not inherited. A grandchild that does not end when its parent
// does (a data loader, a server) lives on until `tune resume` or `tune run`
// resumes the experiment and recovers the trial (see Recovery). A process
// that leaves the group (setsid, setpgid) is covered by none of this.
//
// The trial's standard output and standard error are copied to the writers
// given to [Executor.Run] as they are produced; the last lines of standard
// error also go into the message of a Failed result. Standard input is
// empty.
//
// # Recovery
//
// While an attempt's process runs, the trial's directory
// ([trial.Spec.Dir]) holds a small JSON file, [ProcessRecordName]
// (".tune-process"), written in place with one write once the process has
// started and emptied (not removed) once it has been reaped and the rest of
// its group killed; an empty record means no process. It records the process group id and,
// on Linux, the main process's start time (field 22 of /proc/PID/stat, in
// clock ticks after boot), its session and the boot id, and the spec's
// Owner ([trial.Spec.Owner], the store the trial belongs to). A trial with
// no directory gets no record. An attempt whose record cannot be written
// is stopped at once and fails with reason StartError. The record is
// written just after the process has started: a runner killed in between
// leaves no record, and only its main process (killed by the parent-death
// signal) is sure to be stopped.
//
// [Executor.Recover], called when an experiment is resumed for each trial
// the store still shows as running, reads that record. With no record,
// nothing of the trial runs. A record of another owner (both owners known
// and different) is left alone, record and processes, and Recover says so.
// Otherwise it looks in /proc for live members
// of the group: a group id is not reused while any member of the group
// lives, so members found are the trial's, unless the group's leader pid
// is now held by a process with another start time, in which case the
// trial's group is gone and a new process merely reuses the number
// (members must also share the recorded session, and after a reboot,
// detected by the boot id, nothing is the trial's). Live members are
// stopped, SIGTERM and then SIGKILL after [Options.KillGrace], and the
// record is removed. Recover's sentence for the trial's message says
// which case it found: "no process record; ...", "process group N had
// already exited", "process group N (k processes) was still running
// and was stopped: ..." or "the process record in DIR belongs to another
// store (OWNER), so its process group N was left alone".
//
// Local trials are stopped, never re-attached: their standard output and
// error were pipes to the runner that died, so whatever they print now is
// lost, and metrics collected from standard output could not be trusted
// to be complete. The runner runs another trial in the place of each one
// recovered.
//
// # Mounts
//
// A spec's [trial.Spec.Mounts] ask for directories of this machine to
// appear at other paths inside the trial: Katib's File collector path, such
// as /var/log/katib/metrics.log, is re-rooted by the runner under the
// trial's directory, and the mount makes that directory appear at
// /var/log/katib, so that unmodified Katib training code writing to the
// original path works and parallel trials still write to files of their
// own.
//
// This applies on Linux when [Options.MountHelper] names an executable whose
// main calls [RunMountHelper] first (tune passes its own executable), and
// the system lets tune's user create user and mount namespaces: user
// namespaces enabled (user.max_user_namespaces above 0, and on Debian and
// Ubuntu kernels kernel.unprivileged_userns_clone=1 and no AppArmor
// restriction, kernel.apparmor_restrict_unprivileged_userns=0), as on most
// desktops and VMs; container runtimes' default seccomp and capability
// settings usually forbid it. When tune runs as root, trials get a mount
// namespace only, and keep root's privileges. [Executor.MountsSupported]
// finds out, once, by starting the helper in the namespaces and having it
// mount a tmpfs, and says why not when it cannot.
//
// Each trial with mounts starts as the helper in a new mount namespace
// (and, unless tune runs as root, a new user namespace that maps tune's
// user and group ids to themselves, so the trial keeps its ids and what it
// writes belongs to tune's user). The helper reads its instructions from an
// inherited descriptor, never from a shell or the command line; makes the
// namespace's mount tree private, so nothing it mounts is seen outside the
// trial; sets up the mounts in order; and then replaces itself with the
// trial's program (execve) with the trial's own argv and environment, so
// the trial's pid, process group, parent-death signal and process record
// are those of the program itself, as without mounts. A mount is set up
// as follows:
//
//   - when Target is an existing directory, Source is bind-mounted on it:
//     the trial sees Source there, and the host's directory is unchanged;
//   - otherwise Target's deepest existing ancestor (for /var/log/katib,
//     usually /var/log) is covered, inside the trial only, by a tmpfs that
//     mirrors it: each of its entries is bind-mounted (with the mounts
//     below it) on an entry of the same name, symbolic links are copied,
//     and the missing directories down to Target are created in the tmpfs,
//     with Source bind-mounted on Target.
//
// What the trial writes below Target goes to Source. In a mirrored
// directory, what it writes inside the mirrored entries reaches the host
// as usual, but a new entry created directly in the mirrored directory
// (say /var/log/other.log) lives in the tmpfs and vanishes with the
// trial, and entries the host adds there while the trial runs are not
// seen. The root directory is never mirrored: a Target whose only
// existing ancestor is / cannot be mounted. In a user namespace, files of
// users and groups other than tune's appear to belong to the overflow ids
// (nobody, nogroup), supplementary groups other than tune's primary group
// appear as nogroup, the trial cannot call setgroups, and it has no
// capabilities (the helper drops the one it needed before executing the
// trial). The trial keeps tune's network, process ids and hostname, and
// sees the same device files (/dev/nvidia*, ...), which it may open when
// their permissions let any user do so, as they usually do.
//
// When trials cannot get mounts (not Linux, no MountHelper, namespaces not
// allowed), trials run without them, which is not an error: the runner can
// ask [Executor.MountsSupported] and tell the user that training code must
// write to the re-rooted path it gets in its environment
// (TUNE_METRICS_PATH). When the helper cannot set up one trial's mounts (a
// Target that exists but is not a directory, only / existing on the way
// to it, a mount the kernel refuses), that trial too runs without them,
// after a line on its standard error, "tune: mount SOURCE at TARGET: ...;
// the trial runs without its mounts". A program the helper cannot execute
// fails the attempt with reason StartError, as without mounts.
//
// # Containers
//
// With [Options.Runtime] set to [RuntimePodman] or [RuntimeDocker], each
// process the executor starts runs in a container of its own from the
// container's image, through the runtime's command line (`podman run` or
// `docker run`, found in tune's PATH by [New]). The process tune starts,
// records and signals is that client; the rest is as without containers.
// The client's argv is built, never a shell line:
//
//	RUNTIME run --rm --init --name NAME --label io.tune.trial=TRIAL
//	    [--label io.tune.owner=OWNER] --network host --pull POLICY
//	    --entrypoint ARGV0 [--workdir DIR] --mount type=bind,... ...
//	    [GPU flags] --env NAME ... [--env-file FILE] IMAGE ARGV1 ARGV2 ...
//
// In detail:
//
//   - argv is the same as without containers (command + args after $(VAR)
//     expansion): argv[0] is the entrypoint (podman gets it as a one-element
//     JSON array, which it does not split; docker takes the string as is)
//     and the rest follow the image as its arguments, byte for byte. The
//     image's ENTRYPOINT and CMD are never used, so a container without a
//     command is refused, as without containers.
//   - The environment is the container's env and [trial.Spec.Env] (the
//     runner's TUNE_* variables), and CUDA_VISIBLE_DEVICES (below); the
//     base environment ([Options.Env], tune's own) is not passed: the
//     image's environment is the base, as in Kubernetes. No value is put
//     in the argv, where ps would show it: each variable is passed by name
//     (--env NAME), the client taking its value from its own environment,
//     which is tune's plus these variables. A variable that tune's
//     environment has with another value (PATH, HOME, LD_LIBRARY_PATH...)
//     would change how the client itself runs, so it goes instead into an
//     env file (one NAME=VALUE a line, mode 0600 in a new directory,
//     removed when the client exits); such a variable's value cannot hold
//     a line break (the attempt then fails with reason StartError).
//   - workingDir, when set, is --workdir, and must be absolute
//     ([Executor.Check]); otherwise the image's working directory applies
//     ([Options.Dir] does not).
//   - The trial's directory ([trial.Spec.Dir]) is bind-mounted at the
//     same path, so TUNE_TRIAL_DIR and a File collector's re-rooted
//     TUNE_METRICS_PATH mean the same inside; [trial.Spec.Mounts] are bind
//     mounts of Source on Target (so [Executor.MountsSupported] is always
//     true). Mount paths must not contain a comma or a line break.
//   - GPUs: the ids a trial gets (see GPUs) become devices, podman's CDI
//     `--device nvidia.com/gpu=ID` for each, docker's `--gpus
//     "device=ID,ID"`. The container sees only those, which CUDA numbers
//     from 0, so CUDA_VISIBLE_DEVICES inside is "0,...,k-1" (and "" for a
//     trial asking for none, when GPUs are configured).
//   - imagePullPolicy is --pull: Never is never, IfNotPresent missing,
//     Always always; unset, Kubernetes' default applies (Always for an
//     image without a tag or tagged latest and without a digest,
//     IfNotPresent otherwise).
//   - The container shares the host's network (--network host), so
//     loopback endpoints (a Prometheus collector's, the Push collector's
//     TCP address) are the same inside. The Push collector's Unix socket
//     is not mounted: use a TCP push address.
//   - The name is "tune-" + the trial's name + "-" + 8 hex digits of a
//     hash of the store (Owner) and trial directory + "-" + the attempt,
//     so that attempts, trials and stores never collide and leftovers can
//     be found (`podman ps -a --filter label=io.tune.trial`).
//
// --init gives the container an init process that forwards signals, so
// that a program that installs no SIGTERM handler still ends on SIGTERM
// (podman needs catatonit for it). On cancellation the client gets
// SIGTERM, which its signal proxy forwards to the container; when the
// client is still there after [Options.KillGrace] it is killed, and the
// container is then stopped and removed by name (`rm --force`). --rm
// removes the container when it ends by itself. The container is named
// in the process record, and [Executor.Recover] stops it (`stop --time`
// the kill grace, then `rm --force`) and removes it after a crash, when
// the client died with tune but the container lived on.
//
// A line on the trial's standard error, "tune: RUNTIME container NAME,
// image IMAGE", says where each attempt runs. A runtime that cannot start
// the container (image missing or not pullable, a refused device) exits
// with its own status, 125 and above, and its message on standard error:
// the attempt is Failed, reason Error, with that message in its tail.
//
// Unlike Kubernetes: volumes, volumeMounts, resources other than
// nvidia.com/gpu, securityContext and the pod's network are not applied;
// files the trial writes into its directory belong to the container's
// user (root with rootful docker; the invoking user with rootless podman).
// # Workflows
//
// A Workflow trial is run by trial/pipeline ([pipeline.Run]) with Argo's
// semantics for the subset [pipeline.Check] accepts (docs/pipelines.md
// lists it, and what is refused and why); [Executor.Check] reports every
// template or field outside it, and also a step container without a
// command, with envFrom or env valueFrom other than metadata.name and
// metadata.namespace, or asking for more GPUs than configured. Each step
// runs as one attempt of a Job's process would: argv from command and
// args after $(VAR) expansion, env as above plus TUNE_STEP_DIR (the
// step's directory, [StepDirEnv]), a process group of its own, a process
// record in its own directory (trial dir/steps/<node name>/, beside its
// stdout.log, stderr.log, outputs.json and fs/, where its declared
// container paths live), GPUs from the same pool as trials for the step's
// duration, and the spec's mounts. The Workflow's and the templates'
// activeDeadlineSeconds and retryStrategy apply (the Job rules do not).
//
// The standard output and error of the primary steps (those whose template
// labels hold [trial.Spec.PrimaryPodLabels], in the primary container,
// "main" by default) reach the runner as they are produced, whole lines at
// a time; with no PrimaryPodLabels no step's do, as on a cluster. When the
// run ends it is judged by the trial's success and failure conditions
// ([manifest.Conditions], on the Workflow with its status filled as Argo's
// controller fills it), or by its phase when they are Katib's defaults or
// neither holds; a succeeded run then writes its numeric output
// parameters and Kubeflow Pipelines' metrics as name=value lines
// ([pipeline.WriteOutputs]), exactly as the Kubernetes executor does. A
// failed run's message names the step: "step train (template train)
// failed: exit code 3: <last lines of its stderr>", and its ExitCode is
// that step's. A cancelled run stops every running step's group and is
// Killed. [Executor.Recover] also stops leftover steps, from the records
// in the step directories.
//
// # Caveats
//
// The parent-death signal is tied to the operating-system thread that
// starts the process, not to the tune process, so [Executor.Run] keeps its
// goroutine locked to its thread from start until the process has been
// reaped: a running trial holds one thread.
//
// The package is fully supported on Linux. On other systems trials never
// get mounts. On other Unix systems there is no
// parent-death signal, leftover processes are killed only once the main
// process's output is closed or KillGrace has passed, and the process
// record holds only the group id: Recover stops any group with that id,
// which after a pid has been reused may not be the trial's. On other
// systems Run returns an error.
package local
