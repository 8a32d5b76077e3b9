package tfevent

import (
	"encoding/binary"
	"errors"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// scalar is one scalar summary value of an event.
type scalar struct {
	tag   string
	value float64
}

// event is what tune reads of a TensorFlow Event message.
type event struct {
	wallTime float64
	step     int64
	scalars  []scalar
}

// The field numbers of tensorflow/core/util/event.proto,
// tensorflow/core/framework/summary.proto, tensor.proto and types.proto.
const (
	eventWallTime = 1 // double
	eventStep     = 2 // int64
	eventSummary  = 5 // Summary

	summaryValue = 1 // repeated Summary.Value

	valueTag         = 1 // string
	valueSimpleValue = 2 // float
	valueTensor      = 8 // TensorProto

	tensorDtype   = 1  // DataType
	tensorShape   = 2  // TensorShapeProto
	tensorContent = 4  // bytes
	tensorFloat   = 5  // repeated float (packed)
	tensorDouble  = 6  // repeated double (packed)
	tensorInt     = 7  // repeated int32 (packed)
	tensorInt64   = 10 // repeated int64 (packed)
	tensorHalf    = 13 // repeated int32 holding float16 bits (packed)

	shapeDim = 2 // repeated TensorShapeProto.Dim
	dimSize  = 1 // int64

	dtFloat  = 1
	dtDouble = 2
	dtInt32  = 3
	dtInt64  = 9
	dtHalf   = 19
)

var errMalformed = errors.New("malformed protobuf")

// fields calls fn for each field of the protobuf message b, with its raw
// value (the varint or fixed value in v, the bytes of a length-delimited
// field in data).
func fields(b []byte, fn func(num protowire.Number, typ protowire.Type, v uint64, data []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return errMalformed
		}
		b = b[n:]
		var v uint64
		var data []byte
		switch typ {
		case protowire.VarintType:
			v, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var x uint32
			x, n = protowire.ConsumeFixed32(b)
			v = uint64(x)
		case protowire.Fixed64Type:
			v, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			data, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return errMalformed
		}
		b = b[n:]
		if err := fn(num, typ, v, data); err != nil {
			return err
		}
	}
	return nil
}

// decodeEvent reads an Event's wall time, step and scalar summary values:
// old-style simple_value and tensor-encoded scalars (TF2's tf.summary,
// DT_FLOAT, DT_DOUBLE, DT_HALF or integers, in the typed fields or in
// tensor_content). Images, histograms, text and tensors with more than one
// element are skipped.
func decodeEvent(b []byte) (event, error) {
	var ev event
	err := fields(b, func(num protowire.Number, typ protowire.Type, v uint64, data []byte) error {
		switch {
		case num == eventWallTime && typ == protowire.Fixed64Type:
			ev.wallTime = math.Float64frombits(v)
		case num == eventStep && typ == protowire.VarintType:
			ev.step = int64(v)
		case num == eventSummary && typ == protowire.BytesType:
			return fields(data, func(num protowire.Number, typ protowire.Type, _ uint64, data []byte) error {
				if num != summaryValue || typ != protowire.BytesType {
					return nil
				}
				s, ok, err := decodeValue(data)
				if err == nil && ok {
					ev.scalars = append(ev.scalars, s)
				}
				return err
			})
		}
		return nil
	})
	return ev, err
}

// decodeValue reads a Summary.Value; ok is false when it is not a scalar.
func decodeValue(b []byte) (s scalar, ok bool, err error) {
	err = fields(b, func(num protowire.Number, typ protowire.Type, v uint64, data []byte) error {
		switch {
		case num == valueTag && typ == protowire.BytesType:
			s.tag = string(data)
		case num == valueSimpleValue && typ == protowire.Fixed32Type:
			s.value, ok = float64(math.Float32frombits(uint32(v))), true
		case num == valueTensor && typ == protowire.BytesType:
			var err error
			s.value, ok, err = tensorScalar(data)
			return err
		}
		return nil
	})
	return s, ok, err
}

// tensorScalar returns the value of a TensorProto holding one number.
func tensorScalar(b []byte) (float64, bool, error) {
	var (
		dtype    uint64
		elements = int64(1)
		content  []byte
		vals     []float64
	)
	err := fields(b, func(num protowire.Number, typ protowire.Type, v uint64, data []byte) error {
		switch num {
		case tensorDtype:
			dtype = v
		case tensorShape:
			return fields(data, func(num protowire.Number, typ protowire.Type, _ uint64, data []byte) error {
				if num != shapeDim || typ != protowire.BytesType {
					return nil
				}
				return fields(data, func(num protowire.Number, typ protowire.Type, v uint64, _ []byte) error {
					if num == dimSize && typ == protowire.VarintType {
						elements *= int64(v)
					}
					return nil
				})
			})
		case tensorContent:
			content = data
		case tensorFloat, tensorDouble, tensorInt, tensorInt64, tensorHalf:
			return appendNumbers(&vals, num, typ, v, data)
		}
		return nil
	})
	if err != nil || elements != 1 {
		return 0, false, err
	}
	if len(vals) > 0 {
		if dtype == dtHalf {
			return float64(halfToFloat32(uint16(vals[0]))), true, nil
		}
		return vals[0], true, nil
	}
	switch {
	case dtype == dtFloat && len(content) == 4:
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(content))), true, nil
	case dtype == dtDouble && len(content) == 8:
		return math.Float64frombits(binary.LittleEndian.Uint64(content)), true, nil
	case dtype == dtHalf && len(content) == 2:
		return float64(halfToFloat32(binary.LittleEndian.Uint16(content))), true, nil
	case dtype == dtInt32 && len(content) == 4:
		return float64(int32(binary.LittleEndian.Uint32(content))), true, nil
	case dtype == dtInt64 && len(content) == 8:
		return float64(int64(binary.LittleEndian.Uint64(content))), true, nil
	}
	return 0, false, nil
}

// appendNumbers appends the numbers of a repeated numeric TensorProto field,
// packed (one bytes field) or not (one field per number).
func appendNumbers(vals *[]float64, num protowire.Number, typ protowire.Type, v uint64, data []byte) error {
	one := func(x uint64) float64 {
		switch num {
		case tensorFloat:
			return float64(math.Float32frombits(uint32(x)))
		case tensorDouble:
			return math.Float64frombits(x)
		case tensorInt:
			return float64(int32(x))
		case tensorHalf:
			return float64(uint16(x))
		default:
			return float64(int64(x))
		}
	}
	if typ != protowire.BytesType {
		*vals = append(*vals, one(v))
		return nil
	}
	for len(data) > 0 {
		var x uint64
		var n int
		switch num {
		case tensorFloat:
			var y uint32
			y, n = protowire.ConsumeFixed32(data)
			x = uint64(y)
		case tensorDouble:
			x, n = protowire.ConsumeFixed64(data)
		default:
			x, n = protowire.ConsumeVarint(data)
		}
		if n < 0 {
			return errMalformed
		}
		data = data[n:]
		*vals = append(*vals, one(x))
	}
	return nil
}

// halfToFloat32 converts IEEE 754 half-precision bits to a float32.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal
		f := float32(frac) / 1024 / 16384
		if sign != 0 {
			return -f
		}
		return f
	case exp == 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
}
