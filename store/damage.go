package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"runtime/debug"
	"strconv"
)

// ErrDamaged is wrapped by the errors of reads and writes that met a damaged
// store file: a page bbolt cannot make sense of, a record that fails its
// checksum or does not decode, a file cut short. The error names the file
// and the damaged part; `tune store check` lists every damaged part and
// `tune store recover` copies what is readable to a new file.
var ErrDamaged = errors.New("damaged")

// errEmpty is returned by view when the file holds no tune data yet: it is
// empty (0 bytes) or a bbolt database without a single bucket, as a process
// killed before its first commit leaves it. Read methods answer it as an
// empty store; writes initialise the file.
var errEmpty = errors.New("empty store: nothing has been written to it yet")

// errTruncated is wrapped by the error preflight returns for a file shorter
// than its meta page says; only Check and Recover open such a file.
var errTruncated = fmt.Errorf("%w: truncated", ErrDamaged)

// damagef returns an error wrapping ErrDamaged that names part.
func damagef(part, format string, args ...any) error {
	return fmt.Errorf("%s: %w: %s", part, ErrDamaged, fmt.Sprintf(format, args...))
}

// castagnoli is the CRC-32C table of record checksums.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// checksumLen is the length of a record's checksum trailer: "\n" and 8
// lowercase hex digits.
const checksumLen = 9

// recordSum returns the CRC-32C of a record's JSON and the keys that place
// it (each preceded by its length), so that a record moved to another key
// fails its check as a changed one does.
func recordSum(body []byte, keys [][]byte) uint32 {
	var sum uint32
	for _, k := range keys {
		sum = crc32.Update(sum, castagnoli, []byte{byte(len(k))})
		sum = crc32.Update(sum, castagnoli, k)
	}
	return crc32.Update(sum, castagnoli, body)
}

// seal appends the checksum trailer of the JSON record data stored under
// keys. Compact JSON never holds a raw newline, so the trailer cannot be
// confused with the record.
func seal(data []byte, keys ...[]byte) []byte {
	return fmt.Appendf(data, "\n%08x", recordSum(data, keys))
}

// encodeValue returns v as JSON sealed for keys.
func encodeValue(v any, keys ...[]byte) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return seal(data, keys...), nil
}

// decodeValue decodes a record written by encodeValue with the same keys
// into v after checking its checksum; a record without a trailer (written
// by a schema 1 tune) is decoded as plain JSON. Errors wrap ErrDamaged and
// name the part part returns, which is only called on error.
func decodeValue(part func() string, data []byte, v any, keys ...[]byte) error {
	body := data
	if n := len(data); n >= checksumLen && data[n-checksumLen] == '\n' {
		body = data[:n-checksumLen]
		want, err := strconv.ParseUint(string(data[n-checksumLen+1:]), 16, 32)
		if err != nil {
			return damagef(part(), "unreadable checksum %q", data[n-checksumLen+1:])
		}
		if got := recordSum(body, keys); got != uint32(want) {
			return damagef(part(), "checksum mismatch (stored %08x, computed %08x)", want, got)
		}
	}
	if err := json.Unmarshal(body, v); err != nil {
		return damagef(part(), "does not decode: %v", err)
	}
	return nil
}

// partf returns a func giving the formatted part name, for decodeValue.
func partf(format string, args ...any) func() string {
	return func() string { return fmt.Sprintf(format, args...) }
}

// catch turns a panic of bbolt on a damaged page, or a memory fault reading
// the mapped file, into an error wrapping ErrDamaged that names part. Use
// as `defer catch(part, &err)` in a function that runs with faults turned
// into panics (see withFaults).
func catch(part string, err *error) {
	if r := recover(); r != nil {
		*err = damagef(part, "%v", r)
	}
}

// withFaults runs fn with memory faults turned into panics (a read past the
// end of a mapped file is SIGBUS otherwise, which kills the process).
func withFaults(fn func() error) error {
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	return fn()
}

// errNotRegular is returned by openRegular for anything but a regular file.
var errNotRegular = errors.New("not a regular file")

// errVetted marks the errors of vet, returned by open as they are.
var errVetted = errors.New("vetted")

// vetError is an error of vet: it names the file already.
type vetError struct{ error }

func (e vetError) Unwrap() []error { return []error{e.error, errVetted} }

// vet opens the store's file for bbolt (as bbolt.Options.OpenFile) and
// checks it first, so that what bbolt would hang on (a FIFO), misread (a
// directory, a device), fail on (an empty file opened read-only) or fault on
// (a file shorter than its meta pages say) becomes an error naming the file.
// A 0-byte file read gives errEmpty. With txTruncOK a short file is let
// through.
func (s *Store) vet(name string, flag int, perm os.FileMode, mode txMode) (*os.File, error) {
	f, err := openRegular(name, flag, perm)
	if errors.Is(err, fs.ErrNotExist) {
		if target, lerr := os.Readlink(name); lerr == nil {
			return nil, vetError{fmt.Errorf("store %s: dangling symlink to %s: %w", s.path, target, ErrNoStore)}
		}
		return nil, err
	}
	if err != nil {
		if errors.Is(err, errNotRegular) {
			return nil, vetError{fmt.Errorf("store %s: %w", s.path, err)}
		}
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if fi.Size() == 0 {
		if mode&txWrite == 0 {
			f.Close()
			return nil, vetError{fmt.Errorf("store %s: %w", s.path, errEmpty)}
		}
		return f, nil
	}
	if err := checkMeta(s.path, f); err != nil && (mode&txTruncOK == 0 || !errors.Is(err, errTruncated)) {
		f.Close()
		return nil, vetError{err}
	}
	return f, nil
}

// fileState is what preflight found.
type fileState int

const (
	fileMissing fileState = iota
	fileEmpty             // 0 bytes
	fileData              // a regular file with bbolt meta pages that fit
)

// preflight looks at the store's file before bbolt opens it, so that what
// bbolt would hang on (a FIFO), misread (a directory, a device) or fault on
// (a file shorter than its meta pages say) becomes an error naming the file.
func (s *Store) preflight() (fileState, error) {
	fi, err := os.Lstat(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return fileMissing, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store %s: %w", s.path, err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		target, _ := os.Readlink(s.path)
		fi, err = os.Stat(s.path)
		if errors.Is(err, fs.ErrNotExist) {
			return 0, fmt.Errorf("store %s: dangling symlink to %s: %w", s.path, target, ErrNoStore)
		}
		if err != nil {
			return 0, fmt.Errorf("store %s (symlink to %s): %w", s.path, target, err)
		}
	}
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("store %s: not a regular file (%s); a store is a file tune creates", s.path, fileKind(fi.Mode()))
	}
	if fi.Size() == 0 {
		return fileEmpty, nil
	}
	f, err := os.Open(s.path)
	if err != nil {
		return 0, fmt.Errorf("store %s: %w", s.path, err)
	}
	defer f.Close()
	return fileData, checkMeta(s.path, f)
}

// fileKind names the type of a file that is not regular.
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "mode " + m.String()
}

// bbolt's meta page: a 16-byte page header, then magic, version, page size,
// flags (4 bytes each), the root bucket (16), freelist, pgid, txid and the
// FNV-64a checksum of the 56 bytes before it (8 each).
const (
	metaOffset   = 16
	metaSumLen   = 56
	boltMagic    = 0xED0CDAED
	boltVersion  = 2
	minPageSize  = 1024
	maxPageShift = 14 // bbolt tries page sizes up to 1024<<14
)

// boltMeta is the part of a meta page the checks read.
type boltMeta struct {
	pageSize uint32
	root     uint64 // root bucket page
	freelist uint64
	pgid     uint64 // high water mark
	txid     uint64
}

// parseMeta decodes the meta page at the start of buf; ok is false when it
// is not a valid one.
func parseMeta(buf []byte) (m boltMeta, ok bool) {
	if len(buf) < metaOffset+metaSumLen+8 {
		return m, false
	}
	b := buf[metaOffset:]
	le := binary.LittleEndian
	if le.Uint32(b[0:]) != boltMagic || le.Uint32(b[4:]) != boltVersion {
		return m, false
	}
	h := fnv.New64a()
	h.Write(b[:metaSumLen])
	if h.Sum64() != le.Uint64(b[metaSumLen:]) {
		return m, false
	}
	return boltMeta{pageSize: le.Uint32(b[8:]), root: le.Uint64(b[16:]), freelist: le.Uint64(b[32:]), pgid: le.Uint64(b[40:]), txid: le.Uint64(b[48:])}, true
}

// readMetas reads both meta pages of f as bbolt finds them: the second at
// the page size the first gives or, when the first is invalid, at each
// page size bbolt tries.
func readMetas(f *os.File) (m0 boltMeta, ok0 bool, m1 boltMeta, ok1 bool) {
	buf := make([]byte, 4096)
	n, _ := f.ReadAt(buf, 0)
	m0, ok0 = parseMeta(buf[:n])
	if ok0 && m0.pageSize >= minPageSize {
		n, _ = f.ReadAt(buf, int64(m0.pageSize))
		m1, ok1 = parseMeta(buf[:n])
		return
	}
	for i := 0; i <= maxPageShift && !ok1; i++ {
		n, err := f.ReadAt(buf, int64(minPageSize<<i))
		if err != nil && !errors.Is(err, io.EOF) {
			break
		}
		m1, ok1 = parseMeta(buf[:n])
	}
	return
}

// currentMeta returns the meta page bbolt uses: the valid one with the
// higher transaction id.
func currentMeta(m0 boltMeta, ok0 bool, m1 boltMeta, ok1 bool) (m boltMeta, which int, ok bool) {
	switch {
	case ok0 && ok1 && m1.txid > m0.txid:
		return m1, 1, true
	case ok0:
		return m0, 0, true
	case ok1:
		return m1, 1, true
	}
	return m, 0, false
}

// checkMeta finds the meta page bbolt will use in f (the valid one with the
// higher transaction id) and checks that the pages it counts fit in the
// file: bbolt maps the file and would fault on a page past its end.
func checkMeta(path string, f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("store %s: %w", path, err)
	}
	// Read the meta pages before the size: a writer grows the file
	// before it writes a meta page counting the new pages.
	m, _, ok := currentMeta(readMetas(f))
	if fi2, err := f.Stat(); err == nil {
		fi = fi2
	}
	size := uint64(fi.Size())
	if !ok {
		return fmt.Errorf("store %s: %w: no valid bbolt meta page (not a tune store, or its first pages are damaged)", path, ErrDamaged)
	}
	if m.pageSize < minPageSize || m.pageSize > minPageSize<<maxPageShift {
		return fmt.Errorf("store %s: %w: meta page: page size %d out of range", path, ErrDamaged, m.pageSize)
	}
	if need := m.pgid * uint64(m.pageSize); m.pgid > size || need > size {
		return fmt.Errorf("store %s: %w: the file is %d bytes but its meta page counts %d pages of %d bytes (%d bytes)", path, errTruncated, size, m.pgid, m.pageSize, need)
	}
	return nil
}
