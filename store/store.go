package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/tune-hpo/tune/experiment"
)

// ErrNoStore is returned by [Open] with [Options.ReadOnly] set, and by every
// method, when the store's file does not exist.
var ErrNoStore = errors.New("store does not exist")

// ErrLocked is returned when the store's file lock could not be had within
// [Options.Timeout] because another process (or another [Store] of this
// process) holds it.
var ErrLocked = errors.New("locked by another process")

// DefaultTimeout is how long a [Store] waits for the file lock when
// [Options.Timeout] is zero.
const DefaultTimeout = 10 * time.Second

// schemaVersion is the layout version written to meta/schema: 2 since
// records carry a checksum, 3 since experiments keep a ranking index that
// every trial write updates (an older tune would write trials without
// updating it, so it must refuse such a store). A store with a higher
// version is refused; version 1 and 2 stores are read as they are and
// marked 3 by their first write.
const schemaVersion = 3

// minSchemaVersion is the oldest layout this tune reads.
const minSchemaVersion = 1

// Bucket and key names; see the package documentation.
const (
	bucketMeta        = "meta"
	keySchema         = "schema"
	bucketExperiments = "experiments"
	keyRecord         = "record"
	keyStatus         = "status"
	bucketTrials      = "trials"
	bucketLogs        = "logs"
)

// Lock retry backoff bounds. bbolt itself polls every 50ms; the store polls
// faster so that a reader slips in between a busy writer's transactions.
const (
	minRetry = time.Millisecond
	maxRetry = 20 * time.Millisecond
)

// errClosed is returned by methods of a closed Store.
var errClosed = errors.New("store closed")

// Options configures [Open]. The zero value, like a nil *Options, gives the
// defaults.
type Options struct {
	// Timeout is how long each operation waits for the file lock before
	// failing with an error wrapping [ErrLocked]. Zero means
	// [DefaultTimeout]; a negative value tries once without waiting.
	Timeout time.Duration
	// ReadOnly opens the store for reading only: the file is never created
	// or written, a missing file is an error wrapping [ErrNoStore], and the
	// write methods fail.
	ReadOnly bool
	// NoSync skips the fsync of each committed write: writes are much
	// faster, but a crash of the machine (not only of the process) can
	// lose recent writes or damage the file. For stores that can be
	// written again: generated ones, tests.
	NoSync bool
}

// Store is a bbolt-backed [experiment.Store] that also serves readers (the
// CLI's get/best commands, the dashboard).
//
// A Store does not keep the database open: each method opens the file, runs
// one transaction and closes it again, so other processes can read and write
// between calls. See the package documentation.
//
// A Store is safe for concurrent use by multiple goroutines. Its methods
// return copies that the caller owns.
type Store struct {
	path     string
	realPath string
	timeout  time.Duration
	readOnly bool
	// noSync skips fsync on commit ([Options.NoSync]).
	noSync bool

	// mu orders this handle's own transactions so that goroutines of one
	// process queue on a mutex instead of polling the file lock: writers
	// exclusively, readers together.
	mu     sync.RWMutex
	closed atomic.Bool
}

var _ experiment.Store = (*Store)(nil)

// Open returns the store in the file at path.
//
// Unless opts.ReadOnly is set, Open creates the file (mode 0600) and its
// parent directories (mode 0700) if needed and writes the schema marker; a
// 0-byte file, or a bbolt file without buckets (its writer killed before
// the first commit), is initialised the same way. With opts.ReadOnly such a
// file opens as an empty store. In either mode it refuses what is not a
// regular file (a FIFO, a directory), a dangling symlink (wrapping
// [ErrNoStore]), a file that is not a tune store, one damaged beyond
// opening (wrapping [ErrDamaged]) and one with a schema newer than this
// version of tune understands. A nil opts means the defaults.
//
// Open does not keep the file open or locked.
func Open(path string, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if path == "" {
		return nil, errors.New("store: empty path")
	}
	s := &Store{path: path, timeout: o.Timeout, readOnly: o.ReadOnly, noSync: o.NoSync}
	ctx := context.Background()
	if o.ReadOnly {
		// view checks the schema; an empty file is an empty store.
		if err := s.view(ctx, "meta", func(*bolt.Tx) error { return nil }); err != nil && !errors.Is(err, errEmpty) {
			return nil, err
		}
		s.realPath = realPath(path)
		return s, nil
	}
	if _, err := s.preflight(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store %s: create directory: %w", path, err)
	}
	if err := s.tx(ctx, txWrite|txCreate, "meta", s.prepare); err != nil {
		return nil, err
	}
	s.realPath = realPath(path)
	return s, nil
}

// Path returns the path of the store's file, as given to [Open].
func (s *Store) Path() string { return s.path }

// RealPath returns the absolute path of the store's file with every symlink
// resolved, as it was when [Open] returned; when that cannot be resolved
// (the file does not exist), the absolute form of [Store.Path]. Two stores
// opened by different paths to the same file have the same RealPath, unless
// the paths are hard links.
func (s *Store) RealPath() string { return s.realPath }

// realPath resolves path as [Store.RealPath] describes.
func realPath(path string) string {
	if p, err := filepath.EvalSymlinks(path); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			return abs
		}
		return p
	}
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

// Close marks the store closed; later calls fail. Since a Store holds no
// open file between calls, Close releases nothing and always returns nil.
// It is safe to call more than once.
func (s *Store) Close() error {
	s.closed.Store(true)
	return nil
}

// view runs fn in a read-only transaction of a read-only open of the file.
// part names what fn reads, for the error a damaged page gives. It returns
// errEmpty, without calling fn, when the file holds no tune data yet.
func (s *Store) view(ctx context.Context, part string, fn func(*bolt.Tx) error) error {
	return s.tx(ctx, 0, part, func(tx *bolt.Tx) error {
		if err := s.checkSchema(tx); err != nil {
			return err
		}
		return fn(tx)
	})
}

// update runs fn in a read-write transaction, committed when fn returns nil.
// part names what fn writes. A file with no tune data yet is initialised
// first.
func (s *Store) update(ctx context.Context, part string, fn func(*bolt.Tx) error) error {
	if s.readOnly {
		return fmt.Errorf("store %s: opened read-only", s.path)
	}
	return s.tx(ctx, txWrite, part, func(tx *bolt.Tx) error {
		if err := s.prepare(tx); err != nil {
			return err
		}
		return fn(tx)
	})
}

// prepare readies tx's database for writing: it initialises a database
// without buckets (a new file, or one whose writer was killed before its
// first commit), checks the schema of any other and marks an older schema
// as current, since the records written next carry checksums.
func (s *Store) prepare(tx *bolt.Tx) error {
	meta := tx.Bucket([]byte(bucketMeta))
	if meta == nil {
		// A fresh file has no buckets at all; anything else is some other
		// program's database.
		if k, _ := tx.Cursor().First(); k != nil {
			return fmt.Errorf("store %s: not a tune store (no %q bucket)", s.path, bucketMeta)
		}
		meta, err := tx.CreateBucket([]byte(bucketMeta))
		if err != nil {
			return fmt.Errorf("store %s: create meta: %w", s.path, err)
		}
		if err := meta.Put([]byte(keySchema), []byte(strconv.Itoa(schemaVersion))); err != nil {
			return fmt.Errorf("store %s: write schema: %w", s.path, err)
		}
		if _, err := tx.CreateBucket([]byte(bucketExperiments)); err != nil {
			return fmt.Errorf("store %s: create experiments: %w", s.path, err)
		}
		return nil
	}
	v, err := s.checkSchemaVersion(tx)
	if err != nil {
		return err
	}
	if v < schemaVersion {
		if err := meta.Put([]byte(keySchema), []byte(strconv.Itoa(schemaVersion))); err != nil {
			return fmt.Errorf("store %s: write schema: %w", s.path, err)
		}
	}
	return nil
}

// txMode says how tx opens the file.
type txMode int

const (
	txWrite   txMode = 1 << iota // open read-write: a write transaction
	txCreate                     // create the file when missing
	txTruncOK                    // open a file shorter than its meta page says (faults are caught)
)

// tx opens the file as mode says, runs fn in one transaction and closes
// the file. A panic of bbolt on a damaged page, and a memory fault reading
// the mapped file, become an error wrapping ErrDamaged naming the file and
// part.
func (s *Store) tx(ctx context.Context, mode txMode, part string, fn func(*bolt.Tx) error) (err error) {
	write := mode&txWrite != 0
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store %s: %w", s.path, err)
	}
	if s.closed.Load() {
		return fmt.Errorf("store %s: %w", s.path, errClosed)
	}
	if write {
		s.mu.Lock()
		defer s.mu.Unlock()
	} else {
		s.mu.RLock()
		defer s.mu.RUnlock()
	}
	err = withFaults(func() (err error) {
		var db *bolt.DB
		var file *os.File
		defer func() {
			if r := recover(); r != nil {
				err = damagef(part, "%v", r)
				if db == nil && file != nil {
					// bbolt panicked inside Open: its file (and lock)
					// would stay open until collected.
					file.Close()
				}
			}
			if db != nil {
				if cerr := closeDB(db); cerr != nil && err == nil {
					err = fmt.Errorf("store %s: close: %w", s.path, cerr)
				}
			}
		}()
		db, err = s.open(ctx, mode, &file)
		if err != nil {
			return err
		}
		if write {
			return db.Update(fn)
		}
		return db.View(fn)
	})
	if err != nil && !strings.Contains(err.Error(), s.path) && !errors.Is(err, experiment.ErrNotFound) && !errors.Is(err, experiment.ErrExists) {
		// Name the file, as every error but "no such experiment" does.
		err = fmt.Errorf("store %s: %w", s.path, err)
	}
	return err
}

// closeDB closes db, turning a panic into an error.
func closeDB(db *bolt.DB) (err error) {
	defer catch("close", &err)
	return db.Close()
}

// open opens the bbolt file, retrying a held lock with a short backoff until
// s.timeout has passed or ctx is done.
// *file is set to the file bbolt opened, so that it can be closed if bbolt
// panics before it returns. The file is vetted before bbolt maps it: see
// [Store.vet].
func (s *Store) open(ctx context.Context, mode txMode, file **os.File) (*bolt.DB, error) {
	write, create := mode&txWrite != 0, mode&txCreate != 0
	bo := &bolt.Options{
		// Negative: bbolt tries the lock once; this loop does the waiting.
		Timeout:  -1,
		ReadOnly: !write,
		NoSync:   s.noSync,
		OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
			if !create {
				// A store deleted after Open is reported, not
				// silently recreated empty.
				flag &^= os.O_CREATE
			}
			f, err := s.vet(name, flag, perm, mode)
			if err == nil {
				*file = f
			}
			return f, err
		},
	}
	deadline := time.Now().Add(s.timeout)
	wait := minRetry
	for {
		db, err := bolt.Open(s.path, 0o600, bo)
		switch {
		case err == nil:
			return db, nil
		case errors.Is(err, errVetted):
			return nil, err
		case errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("store %s: %w", s.path, ErrNoStore)
		case !errors.Is(err, berrors.ErrTimeout):
			return nil, fmt.Errorf("store %s: open: %w", s.path, err)
		}
		if s.timeout < 0 || !time.Now().Before(deadline) {
			return nil, s.lockedError(err)
		}
		d := min(wait/2+rand.N(wait), time.Until(deadline))
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("store %s: waiting for the file lock: %w", s.path, ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, maxRetry)
	}
}

// lockedError describes a lock that could not be had, naming its holder when
// the system tells.
func (s *Store) lockedError(err error) error {
	holder := ""
	if pids := lockHolders(s.path); len(pids) > 0 {
		holder = " (held by pid"
		for i, p := range pids {
			if i > 0 {
				holder += ","
			}
			holder += " " + strconv.Itoa(p)
		}
		holder += ")"
	}
	wait := "did not wait"
	if s.timeout > 0 {
		wait = "gave up after " + s.timeout.String()
	}
	return fmt.Errorf("store %s: %w%s: %s: %w", s.path, ErrLocked, holder, wait, err)
}

// checkSchema reports whether tx's database is a tune store this version
// understands; errEmpty when it has no buckets at all.
func (s *Store) checkSchema(tx *bolt.Tx) error {
	if tx.Bucket([]byte(bucketMeta)) == nil {
		if k, _ := tx.Cursor().First(); k == nil {
			return fmt.Errorf("store %s: %w", s.path, errEmpty)
		}
	}
	_, err := s.checkSchemaVersion(tx)
	return err
}

// checkSchemaVersion returns the schema version of tx's database, or an
// error when it is not a tune store this version understands.
func (s *Store) checkSchemaVersion(tx *bolt.Tx) (int, error) {
	meta := tx.Bucket([]byte(bucketMeta))
	if meta == nil {
		return 0, fmt.Errorf("store %s: not a tune store (no %q bucket)", s.path, bucketMeta)
	}
	v := meta.Get([]byte(keySchema))
	n, err := strconv.Atoi(string(v))
	switch {
	case err != nil:
		return 0, fmt.Errorf("store %s: unknown schema %q", s.path, v)
	case n > schemaVersion:
		return 0, fmt.Errorf("store %s: schema version %d is newer than this tune supports (%d): upgrade tune", s.path, n, schemaVersion)
	case n < minSchemaVersion:
		return 0, fmt.Errorf("store %s: unknown schema version %d (this tune supports %d to %d)", s.path, n, minSchemaVersion, schemaVersion)
	}
	if tx.Bucket([]byte(bucketExperiments)) == nil {
		return 0, fmt.Errorf("store %s: %w: no %q bucket", s.path, ErrDamaged, bucketExperiments)
	}
	return n, nil
}
