package experiment

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tune-hpo/tune/internal/didyoumean"
	"github.com/tune-hpo/tune/metrics"
)

// ColonMetricsFormat is the metricsFormat suggested for a trial that prints
// its metrics as "name: value" (Keras' "loss: 0.3 - accuracy: 0.9"):
// Katib's default with a colon for the equals sign.
const ColonMetricsFormat = `([\w|-]+)\s*:\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)`

// metricsUnavailableMessage says why a trial that exited 0 has no value of
// objective, from what u saw in its output (nil when its output was not
// read for metrics). customFormat says the experiment sets its own
// metricsFormat.
func metricsUnavailableMessage(objective string, u *metrics.Unmatched, customFormat bool) string {
	msg := fmt.Sprintf("trial exited 0 but did not report the objective metric %q", objective)
	if u == nil {
		return msg
	}
	pairs, colons := u.Pairs(), u.Colons()
	if len(pairs) > 0 {
		msg += fmt.Sprintf("; the trial printed %s; the objective is %s", strings.Join(pairs, ", "), objective)
		names := make([]string, len(pairs))
		for i, p := range pairs {
			names[i], _, _ = strings.Cut(p, "=")
		}
		if near, ok := didyoumean.Closest(objective, names); ok {
			msg += fmt.Sprintf(" (names must match exactly: is %s the objective?)", near)
		}
	}
	if len(colons) > 0 {
		i := slices.IndexFunc(colons, func(c string) bool { return strings.HasPrefix(c, objective+": ") })
		if i < 0 {
			i = 0
		}
		name, value, _ := strings.Cut(colons[i], ": ")
		if customFormat {
			msg += fmt.Sprintf("; it printed %q, which spec.metricsCollectorSpec.source.filter.metricsFormat does not match", colons[i])
		} else {
			msg += fmt.Sprintf("; it printed %q, but metrics are read as name=value (print %s=%s), or set spec.metricsCollectorSpec.source.filter.metricsFormat to a regular expression whose first group matches the name and second the value, such as '%s'",
				colons[i], name, value, ColonMetricsFormat)
		}
	}
	if len(pairs) == 0 && len(colons) == 0 {
		if customFormat {
			msg += "; no line of its output matched spec.metricsCollectorSpec.source.filter.metricsFormat"
		} else {
			msg += fmt.Sprintf("; it printed no name=value pair: print a line such as %s=0.5 to report it", objective)
		}
	}
	return msg
}

// pythonTraceback is the line a Python traceback starts with.
const pythonTraceback = "Traceback (most recent call last):"

// failureSummary returns the message of a failed trial with, when it holds
// a Python traceback, the exception line (e.g. "ValueError: bad lr") as its
// first line, after the local executor's "exit code N" or "killed by
// signal S" when the message starts with one; the rest of the message,
// whole, follows on the next lines. Any other message is returned
// unchanged.
//
// The exception line is the first unindented line after the last frame
// ("  File ...") of the message, which is the last exception of a chained
// traceback; a traceback whose start was cut off still has its frames.
func failureSummary(msg string) string {
	lines := strings.Split(msg, "\n")
	frame := -1
	for i, l := range lines {
		if strings.HasPrefix(l, `  File "`) || i == 0 && strings.Contains(l, `  File "`) {
			frame = i
		}
	}
	if frame < 0 {
		return msg
	}
	exc := ""
	for _, l := range lines[frame+1:] {
		if l != "" && l[0] != ' ' && l[0] != '\t' {
			exc = strings.TrimSpace(l)
			break
		}
	}
	if exc == "" || lines[0] == exc {
		return msg
	}
	// The first line is "exit code 1: Traceback (most recent call last):",
	// "exit code 1:   File ..." when the start was cut off, or "exit code
	// 1: " and a line printed before the traceback: keep the local
	// executor's "exit code N" or "killed by signal S" in the summary
	// and what follows it below.
	first := lines[0]
	for _, marker := range []string{pythonTraceback, `  File "`} {
		if i := strings.Index(first, marker); i >= 0 {
			prefix := strings.TrimRight(first[:i], ": ")
			if prefix == "" {
				return exc + "\n" + msg
			}
			return prefix + ": " + exc + "\n" + msg[i:]
		}
	}
	if prefix, rest, ok := strings.Cut(msg, ": "); ok && !strings.Contains(prefix, "\n") &&
		(strings.HasPrefix(prefix, "exit code ") || strings.HasPrefix(prefix, "killed by signal ")) {
		return prefix + ": " + exc + "\n" + rest
	}
	return exc + "\n" + msg
}
