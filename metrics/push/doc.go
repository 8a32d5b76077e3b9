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
// [Listen] binds a TCP address ("127.0.0.1:0" when given "") and the URL is
// then "http://HOST:PORT". It also accepts "unix:/path/to/socket", a Unix
// domain socket; the URL is then "unix:/path/to/socket", which [Report]
// understands (it speaks HTTP over the socket, with Host "unix"). Plain HTTP
// clients such as curl reach such a server with
// `curl --unix-socket /path/to/socket http://unix/v1/report`.
//
// # Caveats
//
// The sink and warn functions given to [Server.Register] are called from the
// server's request goroutines, possibly several at a time (for the same trial
// too), so they must be safe for concurrent use. Once done has returned they
// are never called again for that registration.
package push
