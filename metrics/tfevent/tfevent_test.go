package tfevent

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/metrics/tfevent/tfeventtest"
)

// The test writes event files byte for byte, with this encoder.

func record(data []byte) []byte {
	var b []byte
	b = binary.LittleEndian.AppendUint64(b, uint64(len(data)))
	b = binary.LittleEndian.AppendUint32(b, maskedCRC(b[:8]))
	b = append(b, data...)
	return binary.LittleEndian.AppendUint32(b, maskedCRC(data))
}

func eventBytes(wall float64, step int64, values ...[]byte) []byte {
	var b []byte
	b = protowire.AppendTag(b, eventWallTime, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, math.Float64bits(wall))
	b = protowire.AppendTag(b, eventStep, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(step))
	if len(values) == 0 {
		b = protowire.AppendTag(b, 3, protowire.BytesType) // file_version
		return protowire.AppendString(b, "brain.Event:2")
	}
	var summary []byte
	for _, v := range values {
		summary = protowire.AppendTag(summary, summaryValue, protowire.BytesType)
		summary = protowire.AppendBytes(summary, v)
	}
	b = protowire.AppendTag(b, eventSummary, protowire.BytesType)
	return protowire.AppendBytes(b, summary)
}

func simpleValue(tag string, v float32) []byte {
	var b []byte
	b = protowire.AppendTag(b, valueTag, protowire.BytesType)
	b = protowire.AppendString(b, tag)
	b = protowire.AppendTag(b, valueSimpleValue, protowire.Fixed32Type)
	return protowire.AppendFixed32(b, math.Float32bits(v))
}

// tensorValue is a tensor summary; tensor is the TensorProto's fields.
func tensorValue(tag string, tensor []byte) []byte {
	var b []byte
	b = protowire.AppendTag(b, valueTag, protowire.BytesType)
	b = protowire.AppendString(b, tag)
	b = protowire.AppendTag(b, valueTensor, protowire.BytesType)
	return protowire.AppendBytes(b, tensor)
}

func dtype(d uint64) []byte {
	return protowire.AppendVarint(protowire.AppendTag(nil, tensorDtype, protowire.VarintType), d)
}

func floatVal(v float32) []byte { // packed, as TF writes it
	b := dtype(dtFloat)
	b = protowire.AppendTag(b, tensorFloat, protowire.BytesType)
	return protowire.AppendBytes(b, binary.LittleEndian.AppendUint32(nil, math.Float32bits(v)))
}

func content(d uint64, raw []byte) []byte {
	b := dtype(d)
	b = protowire.AppendTag(b, tensorContent, protowire.BytesType)
	return protowire.AppendBytes(b, raw)
}

func withShape(tensor []byte, dims ...int64) []byte {
	var shape []byte
	for _, d := range dims {
		dim := protowire.AppendVarint(protowire.AppendTag(nil, dimSize, protowire.VarintType), uint64(d))
		shape = protowire.AppendTag(shape, shapeDim, protowire.BytesType)
		shape = protowire.AppendBytes(shape, dim)
	}
	tensor = protowire.AppendTag(tensor, tensorShape, protowire.BytesType)
	return protowire.AppendBytes(tensor, shape)
}

func write(t *testing.T, p string, data ...[]byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, d := range data {
		if _, err := f.Write(d); err != nil {
			t.Fatal(err)
		}
	}
}

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func wall(s float64) float64 { return float64(t0.Unix()) + s }

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func TestDirReader(t *testing.T) {
	dir := t.TempDir()
	train := filepath.Join(dir, "train", "events.out.tfevents.1.host")
	test := filepath.Join(dir, "test", "events.out.tfevents.2.host")
	half := binary.LittleEndian.AppendUint16(nil, 0x3800) // 0.5 in float16
	write(t, train,
		record(eventBytes(wall(0), 0)), // file_version only
		record(eventBytes(wall(1), 1, simpleValue("accuracy", 0.5), simpleValue("loss", 0.75))),
		record(eventBytes(wall(2), 2, tensorValue("accuracy", floatVal(0.625)), tensorValue("image", withShape(floatVal(1), 2, 2)))),
	)
	write(t, test,
		record(eventBytes(wall(1.5), 1, tensorValue("accuracy_1", content(dtDouble, binary.LittleEndian.AppendUint64(nil, math.Float64bits(0.875)))))),
		record(eventBytes(wall(2.5), 2, tensorValue("accuracy", content(dtHalf, half)), tensorValue("loss", content(dtFloat, binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(math.NaN()))))))),
	)
	write(t, filepath.Join(dir, "train", "notes.txt"), []byte("not an event file"))

	r := NewDirReader(dir, []string{"test/accuracy", "loss"})
	logs, warnings := r.Poll()
	want := []metrics.Log{
		{Metric: "test/accuracy", Value: 0.875, Step: 1, Time: at(1.5)},
		{Metric: "test/accuracy", Value: 0.5, Step: 2, Time: at(2.5)},
		{Metric: "loss", Value: 0.75, Step: 1, Time: at(1)},
	}
	if diff := cmp.Diff(want, logs); diff != "" {
		t.Errorf("logs (-want +got):\n%s", diff)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0].Error(), "loss (tag loss) at step 2 is NaN") {
		t.Errorf("warnings %v, want one about the NaN loss", warnings)
	}
	if r.Files() != 2 {
		t.Errorf("Files() = %d, want 2", r.Files())
	}

	// A metric without a directory takes every file's matching tags.
	all := NewDirReader(dir, []string{"accuracy"})
	logs, _ = all.Poll()
	var values []float64
	for _, l := range logs {
		values = append(values, l.Value)
	}
	if diff := cmp.Diff([]float64{0.875, 0.5, 0.5, 0.625}, values); diff != "" {
		t.Errorf("accuracy values (-want +got):\n%s", diff)
	}

	// Nothing new, nothing returned; an appended record is read next time.
	if logs, w := r.Poll(); len(logs) != 0 || len(w) != 0 {
		t.Errorf("second Poll: %v, %v; want nothing", logs, w)
	}
	write(t, train, record(eventBytes(wall(3), 3, simpleValue("loss", 0.25))))
	if logs, _ := r.Poll(); len(logs) != 1 || logs[0].Value != 0.25 || logs[0].Step != 3 {
		t.Errorf("after an append: %v, want loss 0.25 at step 3", logs)
	}
}

// TestPartialRecord: a record written in two pieces is read once complete.
func TestPartialRecord(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "events.out.tfevents.1")
	rec := record(eventBytes(wall(1), 7, simpleValue("loss", 2)))
	write(t, p, rec[:5])
	r := NewDirReader(dir, []string{"loss"})
	if logs, w := r.Poll(); len(logs) != 0 || len(w) != 0 {
		t.Fatalf("half a header: %v, %v", logs, w)
	}
	write(t, p, rec[5:20])
	if logs, w := r.Poll(); len(logs) != 0 || len(w) != 0 {
		t.Fatalf("half a record: %v, %v", logs, w)
	}
	write(t, p, rec[20:])
	if logs, w := r.Poll(); len(logs) != 1 || logs[0].Step != 7 || len(w) != 0 {
		t.Fatalf("complete: %v, %v; want loss at step 7", logs, w)
	}
}

// TestCorruptRecord: a checksum mismatch is reported once and ends that
// file; another file is still read.
func TestCorruptRecord(t *testing.T) {
	dir := t.TempDir()
	bad := record(eventBytes(wall(1), 1, simpleValue("loss", 1)))
	bad[len(bad)-6] ^= 0xff // a data byte
	write(t, filepath.Join(dir, "a", "events.out.tfevents.1"), record(eventBytes(wall(0), 0, simpleValue("loss", 3))), bad, record(eventBytes(wall(2), 2, simpleValue("loss", 5))))
	write(t, filepath.Join(dir, "b", "events.out.tfevents.2"), record(eventBytes(wall(1), 1, simpleValue("loss", 4))))
	r := NewDirReader(dir, []string{"loss"})
	logs, warnings := r.Poll()
	var values []float64
	for _, l := range logs {
		values = append(values, l.Value)
	}
	if diff := cmp.Diff([]float64{3, 4}, values); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0].Error(), "data checksum mismatch") || !strings.Contains(warnings[0].Error(), "offset") {
		t.Errorf("warnings %v, want one checksum mismatch with its offset", warnings)
	}
	if _, w := r.Poll(); len(w) != 0 {
		t.Errorf("the corrupt file was reported again: %v", w)
	}
}

func TestMissingDirAndHugeLength(t *testing.T) {
	r := NewDirReader(filepath.Join(t.TempDir(), "absent"), []string{"loss"})
	if logs, w := r.Poll(); len(logs) != 0 || len(w) != 0 || r.Files() != 0 {
		t.Errorf("missing dir: %v, %v, %d files", logs, w, r.Files())
	}
	dir := t.TempDir()
	head := binary.LittleEndian.AppendUint64(nil, 1<<40)
	head = binary.LittleEndian.AppendUint32(head, maskedCRC(head))
	write(t, filepath.Join(dir, "events.out.tfevents.x"), head)
	if _, w := NewDirReader(dir, []string{"loss"}).Poll(); len(w) != 1 || !strings.Contains(w[0].Error(), "limit") {
		t.Errorf("a 1 TiB length: %v, want a refusal", w)
	}
}

// TestHelperPackage: tfeventtest's records read back as written.
func TestHelperPackage(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "events.out.tfevents.h"), tfeventtest.Scalar(wall(1), 3, []string{"loss", "accuracy"}, []float32{0.5, 0.75}))
	logs, w := NewDirReader(dir, []string{"accuracy", "loss"}).Poll()
	want := []metrics.Log{{Metric: "loss", Value: 0.5, Step: 3, Time: at(1)}, {Metric: "accuracy", Value: 0.75, Step: 3, Time: at(1)}}
	if diff := cmp.Diff(want, logs); diff != "" || len(w) != 0 {
		t.Errorf("logs (-want +got):\n%s\nwarnings %v", diff, w)
	}
}

func TestMatches(t *testing.T) {
	for _, tc := range []struct {
		tag, m, dir string
		want        bool
	}{
		{"accuracy", "accuracy", "/any", true},
		{"accuracy_1", "accuracy", "/any", true},
		{"loss", "accuracy", "/any", false},
		{"accuracy", "test/accuracy", "/logs/test", true},
		{"accuracy", "test/accuracy", "/logs/train", false},
		{"accuracy", "test/accuracy", "/logs/contest", false},
		{"accuracy", "a/test/accuracy", "/logs/a/test", true},
	} {
		if got := matches(tc.tag, tc.m, tc.dir); got != tc.want {
			t.Errorf("matches(%q, %q, %q) = %v, want %v", tc.tag, tc.m, tc.dir, got, tc.want)
		}
	}
}

func TestHalf(t *testing.T) {
	for bits, want := range map[uint16]float32{0x3c00: 1, 0xc000: -2, 0x3800: 0.5, 0x0000: 0, 0x7bff: 65504, 0x0001: 5.9604645e-08} {
		if got := halfToFloat32(bits); got != want {
			t.Errorf("half %#04x = %v, want %v", bits, got, want)
		}
	}
	if !math.IsInf(float64(halfToFloat32(0x7c00)), 1) || !math.IsNaN(float64(halfToFloat32(0x7e00))) {
		t.Error("half inf/nan")
	}
}

func FuzzRecords(f *testing.F) {
	f.Add(record(eventBytes(wall(1), 1, simpleValue("loss", 1))))
	f.Add(append(record(eventBytes(wall(0), 0)), record(eventBytes(wall(2), 2, tensorValue("loss", floatVal(2))))...))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, file []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "events.out.tfevents.f"), file, 0o644); err != nil {
			t.Fatal(err)
		}
		logs, _ := NewDirReader(dir, []string{"loss"}).Poll()
		if len(logs) > len(file)/16+1 {
			t.Fatalf("%d logs from %d bytes", len(logs), len(file))
		}
		for _, l := range logs {
			if math.IsNaN(l.Value) || math.IsInf(l.Value, 0) {
				t.Fatalf("non-finite log %+v", l)
			}
		}
	})
}

func FuzzEvent(f *testing.F) {
	f.Add(eventBytes(wall(1), 1, simpleValue("loss", 1), tensorValue("acc", withShape(floatVal(1), 1))))
	f.Add(eventBytes(wall(1), 1, tensorValue("acc", content(dtInt64, make([]byte, 8)))))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := decodeEvent(b)
		if err != nil && len(ev.scalars) > len(b) {
			t.Fatal("more scalars than bytes")
		}
	})
}
