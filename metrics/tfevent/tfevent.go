// Package tfevent reads the scalar summaries that TensorFlow's tf.summary,
// TensorBoard's SummaryWriter (tensorboardX) and torch.utils.tensorboard
// write to event files, for Katib's TensorFlowEvent metrics collector,
// without TensorFlow: it decodes the TFRecord framing (checking both CRCs)
// and the Event, Summary and TensorProto protobuf messages itself.
//
// # Which values count
//
// Event files are the files under the collector's directory, at any depth,
// whose names contain "tfevents". A scalar is an old-style simple_value or
// a TensorProto holding one number (TF2's tf.summary.scalar: DT_FLOAT,
// DT_DOUBLE, DT_HALF, DT_INT32 or DT_INT64, in the typed fields or in
// tensor_content). Images, histograms, text and larger tensors are skipped.
//
// A value counts for metric m as Katib's collector decides
// (pkg/metricscollector/v1beta1/tfevent-metricscollector/tfevent_loader.py,
// _should_consider): the value's tag starts with m ("accuracy" also takes
// TF1's "accuracy_1"); when m has a directory part ("train/accuracy"), the
// tag must start with its last element and the event file must be in a
// directory named by the rest ("…/train/events.out.tfevents…"). Katib
// compares the directory as a string suffix, so its "test" also matches a
// directory "contest"; tune requires a whole path element.
//
// Each value becomes a [metrics.Log] with the event's step and its wall
// time. Values that are not finite numbers are reported, not recorded.
package tfevent

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tune-hpo/tune/metrics"
)

// DirReader reads the event files under a directory incrementally, as a
// trial writes them: each Poll returns only the values written since the
// previous one. It is not safe for concurrent use.
type DirReader struct {
	dir   string
	names []string
	files map[string]*fileState
	buf   []byte
}

type fileState struct {
	offset int64
	broken bool // a corrupt record: the rest of the file is skipped
}

// NewDirReader returns a reader of the event files under dir for the
// metrics named metricNames.
func NewDirReader(dir string, metricNames []string) *DirReader {
	return &DirReader{dir: dir, names: slices.Clone(metricNames), files: map[string]*fileState{}}
}

// Files returns how many event files the reader has found so far.
func (r *DirReader) Files() int { return len(r.files) }

// Poll reads what was appended to the event files since the last Poll, in
// file-name order, and returns the logs of the named metrics. warnings
// report, without stopping the other files, a corrupt record (once per file,
// whose rest is then skipped), a record that does not decode, a value that
// is not a finite number, and a file that cannot be read. A directory that
// does not exist yet is not a warning.
func (r *DirReader) Poll() (logs []metrics.Log, warnings []error) {
	var paths []string
	err := filepath.WalkDir(r.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			warnings = append(warnings, err)
			return nil
		}
		if !d.IsDir() && strings.Contains(d.Name(), "tfevents") {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		warnings = append(warnings, err)
	}
	slices.Sort(paths)
	for _, p := range paths {
		st := r.files[p]
		if st == nil {
			st = &fileState{}
			r.files[p] = st
		}
		if st.broken {
			continue
		}
		l, w := r.readFile(p, st)
		logs, warnings = append(logs, l...), append(warnings, w...)
	}
	return logs, warnings
}

// readFile reads the complete records of file p from st.offset on.
func (r *DirReader) readFile(p string, st *fileState) (logs []metrics.Log, warnings []error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, []error{fmt.Errorf("event file %s: %w", p, err)}
	}
	defer f.Close()
	dir := path.Join("/", filepath.ToSlash(filepath.Dir(p)))
	for {
		data, next, err := readRecord(f, st.offset, &r.buf)
		if errors.Is(err, io.EOF) {
			return logs, warnings
		}
		if err != nil {
			if errors.Is(err, errCorrupt) {
				st.broken = true
			}
			return logs, append(warnings, fmt.Errorf("event file %s: %w", p, err))
		}
		st.offset = next
		ev, err := decodeEvent(data)
		if err != nil {
			warnings = append(warnings, fmt.Errorf("event file %s: record before offset %d: %w", p, next, err))
			continue
		}
		for _, s := range ev.scalars {
			for _, m := range r.names {
				if !matches(s.tag, m, dir) {
					continue
				}
				if math.IsNaN(s.value) || math.IsInf(s.value, 0) {
					warnings = append(warnings, fmt.Errorf("event file %s: %s (tag %s) at step %d is %g, not a finite number; ignored", p, m, s.tag, ev.step, s.value))
					continue
				}
				sec, frac := math.Modf(ev.wallTime)
				logs = append(logs, metrics.Log{Metric: m, Value: s.value, Step: ev.step, Time: time.Unix(int64(sec), int64(frac*1e9)).UTC()})
			}
		}
	}
}

// matches applies Katib's rule (see the package documentation): tag
// belongs to metric m, for an event file in directory dir (absolute,
// slash-separated).
func matches(tag, m, dir string) bool {
	i := strings.LastIndexByte(m, '/')
	if i < 0 {
		return strings.HasPrefix(tag, m)
	}
	parent := "/" + strings.Trim(m[:i], "/")
	return strings.HasPrefix(tag, m[i+1:]) && (dir == parent || strings.HasSuffix(dir, parent))
}
