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

// schemaVersion is the layout version written to meta/schema. A store with a
// higher version is refused.
const schemaVersion = 1

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
// parent directories (mode 0700) if needed and writes the schema marker. In
// either mode it refuses a file that is not a tune store or has a schema
// newer than this version of tune understands. A nil opts means the
// defaults.
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
	s := &Store{path: path, timeout: o.Timeout, readOnly: o.ReadOnly}
	ctx := context.Background()
	if o.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("store %s: %w", path, ErrNoStore)
			}
			return nil, fmt.Errorf("store %s: %w", path, err)
		}
		// view checks the schema.
		if err := s.view(ctx, func(*bolt.Tx) error { return nil }); err != nil {
			return nil, err
		}
		s.realPath = realPath(path)
		return s, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store %s: create directory: %w", path, err)
	}
	err := s.tx(ctx, true, true, func(tx *bolt.Tx) error {
		meta := tx.Bucket([]byte(bucketMeta))
		if meta != nil {
			return s.checkSchema(tx)
		}
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
	})
	if err != nil {
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
func (s *Store) view(ctx context.Context, fn func(*bolt.Tx) error) error {
	return s.tx(ctx, false, false, func(tx *bolt.Tx) error {
		if err := s.checkSchema(tx); err != nil {
			return err
		}
		return fn(tx)
	})
}

// update runs fn in a read-write transaction, committed when fn returns nil.
func (s *Store) update(ctx context.Context, fn func(*bolt.Tx) error) error {
	if s.readOnly {
		return fmt.Errorf("store %s: opened read-only", s.path)
	}
	return s.tx(ctx, true, false, func(tx *bolt.Tx) error {
		if err := s.checkSchema(tx); err != nil {
			return err
		}
		return fn(tx)
	})
}

// tx opens the file (for writing when write is set, creating it when create
// is set), runs fn in one transaction and closes the file.
func (s *Store) tx(ctx context.Context, write, create bool, fn func(*bolt.Tx) error) (err error) {
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
	db, err := s.open(ctx, write, create)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := db.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("store %s: close: %w", s.path, cerr)
		}
	}()
	if write {
		return db.Update(fn)
	}
	return db.View(fn)
}

// open opens the bbolt file, retrying a held lock with a short backoff until
// s.timeout has passed or ctx is done.
func (s *Store) open(ctx context.Context, write, create bool) (*bolt.DB, error) {
	bo := &bolt.Options{
		// Negative: bbolt tries the lock once; this loop does the waiting.
		Timeout:  -1,
		ReadOnly: !write,
	}
	if !create {
		bo.OpenFile = openExisting
	}
	deadline := time.Now().Add(s.timeout)
	wait := minRetry
	for {
		db, err := bolt.Open(s.path, 0o600, bo)
		switch {
		case err == nil:
			return db, nil
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

// openExisting is os.OpenFile that never creates the file, so that a store
// deleted after Open is reported instead of silently recreated empty.
func openExisting(name string, flag int, perm os.FileMode) (*os.File, error) {
	return os.OpenFile(name, flag&^os.O_CREATE, perm)
}

// checkSchema reports whether tx's database is a tune store this version
// understands.
func (s *Store) checkSchema(tx *bolt.Tx) error {
	meta := tx.Bucket([]byte(bucketMeta))
	if meta == nil {
		return fmt.Errorf("store %s: not a tune store (no %q bucket)", s.path, bucketMeta)
	}
	v := meta.Get([]byte(keySchema))
	n, err := strconv.Atoi(string(v))
	switch {
	case err != nil:
		return fmt.Errorf("store %s: unknown schema %q", s.path, v)
	case n > schemaVersion:
		return fmt.Errorf("store %s: schema version %d is newer than this tune supports (%d): upgrade tune", s.path, n, schemaVersion)
	case n != schemaVersion:
		return fmt.Errorf("store %s: unknown schema version %d (this tune supports %d)", s.path, n, schemaVersion)
	}
	if tx.Bucket([]byte(bucketExperiments)) == nil {
		return fmt.Errorf("store %s: corrupt: no %q bucket", s.path, bucketExperiments)
	}
	return nil
}
