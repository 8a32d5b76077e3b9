// Package push implements Katib's Push metrics collector
// (metricsCollectorSpec.collector.kind: Push): the trial reports its metrics
// itself, over HTTP, to an endpoint tune serves while the experiment runs.
//
// # Setup
//
// The runner starts one [Server] per experiment with [Listen] and, for each
// trial, calls [Server.Register], which returns a fresh secret token. The
// trial gets the server's address as TUNE_REPORT_URL and its token as
// TUNE_REPORT_TOKEN ([EnvURL], [EnvToken]). A token belongs to exactly one
// trial, so one trial cannot write another's metrics. When the trial ends the
// runner calls the done function Register returned; later reports with that
// token are refused with 410 Gone.
//
// # Protocol
//
// A report is one request:
//
//	POST <TUNE_REPORT_URL>/v1/report
//	Authorization: Bearer <TUNE_REPORT_TOKEN>
//	Content-Type: application/json
//
//	{"metrics": [{"name": "accuracy", "value": 0.91, "step": 3},
//	             {"name": "loss", "value": "0.27"}],
//	 "timestamp": "2026-11-28T19:42:00Z"}
//
// Fields:
//   - metrics: one or more values; each has a name (one of the experiment's
//     objective and additional metric names), a value (a JSON number, or a
//     string holding one, as Katib's metric values are strings) and an
//     optional step (a non-negative integer: the training step or epoch;
//     absent or null means unknown).
//   - timestamp: optional, RFC 3339; the time of every value in the report.
//     When absent, the time the server received the report.
//
// Unknown fields are refused, so that a misspelt field is not silently
// ignored. A report is all-or-nothing: if any metric is refused, none of the
// report is recorded.
//
// Responses (the body of an error is a one-line plain-text message meant
// for a person):
//   - 204 No Content: every value was recorded.
//   - 400 Bad Request: a malformed body, an empty report, a metric the
//     experiment does not declare (the message lists the declared ones), a
//     value that is not a finite number (NaN, Inf or garbage: never recorded
//     as 0 or otherwise), a negative step or a bad timestamp.
//   - 401 Unauthorized: the Authorization header is missing or its token is
//     unknown. The message does not say which trials exist.
//   - 405 Method Not Allowed: a method other than POST.
//   - 410 Gone: the token's trial has finished.
//   - 413 Request Entity Too Large: a body over [MaxBodyBytes].
//
// # Addresses
//
// [Listen] with an empty address, the runner's default, creates a new
// directory under os.TempDir() that only this user may enter (mode 0700),
// listens on the Unix domain socket report.sock in it, and removes the
// directory on Close; the URL is then "unix:/tmp/tune-push-…/report.sock".
// [Report], `tune report` and examples/push/tune_report.py speak HTTP over
// such a socket (with Host "unix"); curl reaches it with
// `curl --unix-socket /path/to/report.sock http://unix/v1/report`.
// Listen also takes "unix:/path/to/socket", and a TCP host:port (such as
// "127.0.0.1:0", a free loopback port) for trials that cannot reach this
// machine's files, such as containers; the URL is then "http://HOST:PORT".
//
// # Limits
//
// The server holds at most [Options].MaxConns connections (64 by default)
// open: further clients wait in the kernel's accept queue, costing tune no
// file descriptor, until one closes. A connection must send its request
// header within ReadHeaderTimeout (5 s) of being accepted or of its
// previous request, its whole request within ReadTimeout (15 s), and is
// closed after IdleTimeout (10 s) without a request; headers are limited
// to 16 KiB and bodies to [MaxBodyBytes]. A client that gives up while
// waiting in the queue may still have its report recorded: the request
// was already sent when the server reaches it.
//
// # What the token protects against
//
// A token admits the reports of one trial while it runs: a trial cannot
// write another trial's metrics by accident (a copied URL, a stale token
// from an earlier run, a misconfigured script), and nothing is accepted
// once the trial has ended. It is not a defence against a process of the
// same user: such a process can read any trial's environment
// (/proc/PID/environ), hence its token, and report in its name. The 0700
// socket directory keeps other users (other than root) from connecting at
// all; on TCP any local process can connect, and only the token decides.
//
// # Caveats
//
// The sink and warn functions given to [Server.Register] are called from the
// server's request goroutines, possibly several at a time (for the same trial
// too), so they must be safe for concurrent use. Once done has returned they
// are never called again for that registration.
package push
