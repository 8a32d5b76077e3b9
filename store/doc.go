// Package store keeps experiments, trials and observation logs in a single
// bbolt file. [Store] implements [experiment.Store] for the runner and adds
// the read methods the CLI and the dashboard need ([Store.Experiments],
// [Store.Trial], [Store.Logs], [Store.Top]) and [Store.DeleteExperiment].
//
// # Process model
//
// bbolt lets one process open a file for writing, and the writer's exclusive
// flock also blocks other processes' read-only opens for as long as the
// database stays open. A `tune run` writes for hours while `tune get`,
// `tune best` or the dashboard read from other processes, so a [Store] never
// keeps the database open: every method opens the file (read-write for
// writes, read-only with a shared lock for reads), runs exactly one
// transaction and closes it. Each call is a short critical section and other
// processes get their turn between calls.
//
// The price is an open, an mmap and a close per call, on top of bbolt's own
// cost: every committed write transaction is fsynced (data pages, then the
// meta page), so a write costs a few milliseconds on a disk, a read of a
// small store tens of microseconds (see the benchmarks). That suits the
// runner, which writes when a trial changes state or flushes its metric
// logs, not per reported value.
//
// A lock that is held is retried with a short backoff (a millisecond,
// doubling up to 20ms; bbolt's own retry is 50ms) until [Options.Timeout]
// passes or the context is done. Then the call fails with an error wrapping
// [ErrLocked] that names the file and, on Linux, the ids of the processes
// holding the lock. Goroutines of one process queue on a mutex of their
// [Store] instead of polling. Readers share the lock, so a writer waits until
// every reader in flight is done.
//
// Contexts are checked before each call and while waiting for the lock; a
// transaction in progress is not interrupted.
//
// # Experiment locks
//
// The data file is never held between calls, so something else must stop
// two processes from running the same experiment at once. Whoever writes an
// experiment for longer than one call (tune run, tune resume, tune delete)
// first takes [Store.LockExperiment]. The lock belongs to the file, not to
// the path: on Linux an open-file-description lock on one byte of the data
// file far past its end (at an offset hashed from the experiment name), so a
// symlink, a hard link or a path through ".." all meet the same lock. The
// holder records its pid, command line and start time in
// <real path>.locks/<experiment>.lock for the error the next process gets.
// The kernel drops the lock when its process ends, even by kill -9, so a
// crash leaves no stale lock to clean up. Runs of different experiments, and all
// readers, are not affected by it.
//
// # Bucket layout
//
//	meta                                   root bucket
//	  schema = "3"                         layout version; a newer one is refused
//	experiments                            root bucket
//	  <experiment name>                    one bucket per experiment
//	    record = JSON experiment.Record    the submitted spec, without status
//	    status = JSON experiment.Status    rewritten by UpdateStatus
//	    summary = JSON {algorithm, objective}   what listings show of the spec (schema 3)
//	    trials                             bucket
//	      <seq: 8-byte big-endian> = JSON trial.Trial
//	    logs                               bucket
//	      <trial seq: 8-byte big-endian>   one bucket per trial with logs
//	        <n: 8-byte big-endian> = JSON metrics.Log   n from NextSequence
//	    rank                               bucket: the ranking index (schema 3)
//	      order = JSON {objective, maximize, strategy}   what it ranks by
//	      best                             bucket, in ranking order
//	        <class: 1 byte><value: 8 bytes><seq: 8 bytes> = ""
//	      seqs                             bucket
//	        <seq> = the trial's key in best
//	      text                             bucket
//	        <seq> = ""                     Succeeded with the objective only as text
//
// The status is kept apart from the record so that frequent status updates
// do not rewrite the spec and submitted source, and the summary so that
// [Store.ExperimentSummaries] lists experiments without decoding specs and
// sources (a few kilobytes of JSON each, most of the time tune get
// experiments took with 1,000 experiments). The summary is written with
// the record; an experiment without one (written before schema 3) is
// listed from its record. Big-endian keys make cursor
// order creation order. Values are JSON so that `bbolt get` can show them,
// followed by a checksum trailer: a newline and the CRC-32C, as 8 hex
// digits, of the JSON and the keys that place the record (the trial seq;
// the trial seq and n for a log entry). Schema 1 stores wrote plain JSON;
// such records are still read, and the first write marks the store 3.
//
// # Ranking index
//
// tune best and tune get trials --limit N list an experiment's best trials
// first; with 100,000 trials, decoding every one to find them takes
// seconds and hundreds of megabytes. So each experiment keeps its trials
// ranked as [experiment.BestTrial] ranks them, and [Store.Top] reads the
// first N and decodes only those. A key of best is class 0 for a trial that
// Succeeded with a number for the objective (its value under the order's
// strategy), 1 for every other; then the value's IEEE 754 bits made to sort
// in the goal's direction (sign flipped, or all bits for negatives, then
// all inverted for maximize; -0 as 0; zero for class 1); then the seq, so
// that ties go to the earliest trial and class 1 stays in creation order.
// seqs finds a trial's old key when it is rewritten; text holds the trials
// that rank only when no trial has a number ([experiment.ObjectiveText]).
//
// The index is written in the transaction that writes the trial
// (SaveTrial, ReplaceTrialLogs), created empty with the experiment, and
// built from every trial by UpdateExperiment when there is none or the new
// spec ranks by another objective, goal or strategy. It costs about 160 bytes a trial and
// a few more pages written per trial write. Top checks every entry it reads
// against the trial's record (ErrDamaged when they differ); [Store.Check]
// compares the whole index with the trials and [Store.Recover] builds a new
// one.
//
// A tune before schema 3 writes trials without updating the index, which
// would leave it wrong; hence the schema bump, which makes an older tune
// refuse a store this one has written. An experiment written before has no
// index: [Store.Top] says so and readers read every trial, as before; the
// next write of a trial or of the record (tune resume) builds the index
// from every trial in that transaction. When a trial cannot be read the experiment is left
// without an index (reads report the damage, as before) until tune store
// recover copies it.
//
// # Damage
//
// A damaged file never panics or faults a caller. Before bbolt maps the
// file, its meta pages are read and the file size checked against the
// pages they count; bbolt's panics and memory faults inside a call are
// recovered; decoded records are checked (checksum, names and seqs against
// their keys, keys in order). The error wraps [ErrDamaged] and names the
// file and the part. One damaged experiment fails alone in
// [Store.Experiments]. [CheckFile] reports every damaged part, reading the
// pages with plain reads (never through the map); [RecoverFile] copies what
// is intact to a new file. A 0-byte file, or one without any bucket (its
// writer killed before the first commit), reads as an empty store and is
// initialised by the next write; FIFOs, directories and dangling symlinks
// are refused with an error saying so.
//
// # Caveats
//
// Every value a method returns is a decoded copy owned by the caller. Close
// releases nothing, since nothing is held between calls; it only makes later
// calls fail. Deleting an experiment frees its pages for reuse; the file
// never shrinks.
package store
