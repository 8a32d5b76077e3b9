package experiment

import "io"

// SetOpenLog makes r open its trials' log files with open.
func SetOpenLog(r *Runner, open func(path string) (io.WriteCloser, error)) {
	r.openLog = open
}
