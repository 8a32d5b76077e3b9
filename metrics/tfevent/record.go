package tfevent

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// MaxRecordBytes bounds one record's length: a scalar event is tens of
// bytes, an image summary a few megabytes; a larger length is taken as a
// corrupt file rather than allocated.
const MaxRecordBytes = 64 << 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// maskedCRC is TFRecord's masked CRC-32C of b.
func maskedCRC(b []byte) uint32 {
	c := crc32.Checksum(b, castagnoli)
	return ((c >> 15) | (c << 17)) + 0xa282ead8
}

// errCorrupt marks a record whose framing or checksum is wrong: the rest of
// its file cannot be trusted.
var errCorrupt = errors.New("corrupt record")

// readRecord reads the TFRecord at offset off of r: uint64 length (little
// endian), the masked CRC-32C of those 8 bytes, the data, the masked
// CRC-32C of the data. It returns the data (in *buf, grown as needed) and
// the offset of the next record. A record not yet written in full returns
// io.EOF (read it again later); a wrong checksum or an impossible length
// returns an error wrapping errCorrupt.
func readRecord(r io.ReaderAt, off int64, buf *[]byte) (data []byte, next int64, err error) {
	var head [12]byte
	if _, err := r.ReadAt(head[:], off); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, off, io.EOF
		}
		return nil, off, err
	}
	n := binary.LittleEndian.Uint64(head[:8])
	if maskedCRC(head[:8]) != binary.LittleEndian.Uint32(head[8:]) {
		return nil, off, fmt.Errorf("offset %d: length checksum mismatch: %w", off, errCorrupt)
	}
	if n > MaxRecordBytes {
		return nil, off, fmt.Errorf("offset %d: record of %d bytes, over the %d MiB limit: %w", off, n, MaxRecordBytes>>20, errCorrupt)
	}
	if cap(*buf) < int(n)+4 {
		*buf = make([]byte, int(n)+4)
	}
	b := (*buf)[:int(n)+4]
	if _, err := r.ReadAt(b, off+12); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, off, io.EOF
		}
		return nil, off, err
	}
	data = b[:n]
	if maskedCRC(data) != binary.LittleEndian.Uint32(b[n:]) {
		return nil, off, fmt.Errorf("offset %d: data checksum mismatch: %w", off, errCorrupt)
	}
	return data, off + 12 + int64(n) + 4, nil
}
