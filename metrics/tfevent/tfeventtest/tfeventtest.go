// Package tfeventtest writes TensorFlow event files for tests of code that
// reads them: the TFRecord framing and Event messages with scalar summary
// values, as tf.summary writes them, without TensorFlow.
package tfeventtest

import (
	"encoding/binary"
	"hash/crc32"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// Record frames data as one TFRecord: length, masked CRC-32C of the length,
// data, masked CRC-32C of the data.
func Record(data []byte) []byte {
	mask := func(b []byte) uint32 {
		c := crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli))
		return ((c >> 15) | (c << 17)) + 0xa282ead8
	}
	var b []byte
	b = binary.LittleEndian.AppendUint64(b, uint64(len(data)))
	b = binary.LittleEndian.AppendUint32(b, mask(b[:8]))
	b = append(b, data...)
	return binary.LittleEndian.AppendUint32(b, mask(data))
}

// Scalar returns the record of an Event at wall time wall (Unix seconds)
// and step, whose summary holds one old-style scalar (simple_value) per
// tag, tags[i] with values[i].
func Scalar(wall float64, step int64, tags []string, values []float32) []byte {
	var summary []byte
	for i, tag := range tags {
		var v []byte
		v = protowire.AppendTag(v, 1, protowire.BytesType) // Summary.Value.tag
		v = protowire.AppendString(v, tag)
		v = protowire.AppendTag(v, 2, protowire.Fixed32Type) // simple_value
		v = protowire.AppendFixed32(v, math.Float32bits(values[i]))
		summary = protowire.AppendTag(summary, 1, protowire.BytesType) // Summary.value
		summary = protowire.AppendBytes(summary, v)
	}
	var ev []byte
	ev = protowire.AppendTag(ev, 1, protowire.Fixed64Type) // Event.wall_time
	ev = protowire.AppendFixed64(ev, math.Float64bits(wall))
	ev = protowire.AppendTag(ev, 2, protowire.VarintType) // Event.step
	ev = protowire.AppendVarint(ev, uint64(step))
	ev = protowire.AppendTag(ev, 5, protowire.BytesType) // Event.summary
	ev = protowire.AppendBytes(ev, summary)
	return Record(ev)
}
