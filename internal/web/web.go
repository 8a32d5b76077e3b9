// Package web serves tune's dashboard: three pages (experiments, one
// experiment, one trial) drawn in the browser from a JSON API under /api/,
// with the chart library and every script and style sheet embedded in the
// binary. It only reads the store, one short transaction per request, so
// it runs beside a tune run writing the same file.
//
// # API
//
//	GET /api/experiments                        experiments with progress and best trial
//	GET /api/experiments/{name}                 spec summary, status and the trial table
//	GET /api/experiments/{name}/trials/{trial}  one trial: values, observation log, output tails
//	GET /api/experiments/{name}/curves?trial=…  observation logs of the named trials
//	GET /api/experiments/{name}/importance      parameter importance (fANOVA, as tune importance)
//
// Every JSON answer carries an ETag (a hash of its body) and answers 304 to a
// matching If-None-Match, so a polling page that sees no change costs one
// store read and no transfer. Non-finite numbers are written as null.
package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/experiment/results"
	"github.com/tune-hpo/tune/internal/importance"
	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/trial"
)

//go:embed static
var staticFS embed.FS

// Reader is the part of a store the dashboard reads (store.Store has it).
type Reader interface {
	results.Reader
	// Experiments returns every experiment with its status.
	Experiments(ctx context.Context) ([]experiment.Record, error)
	// Trial returns the named trial; experiment.ErrNotFound if absent.
	Trial(ctx context.Context, exp, name string) (*trial.Trial, error)
	// Logs returns the named trial's observation log in report order.
	Logs(ctx context.Context, exp, trialName string) ([]metrics.Log, error)
}

// Options configures [Handler]. The zero value serves without a token,
// resolves relative trial directories against the working directory and
// shows 64 KiB of each output log.
type Options struct {
	// Token, when not empty, is required on every request: as the
	// tune_token cookie, an "Authorization: Bearer TOKEN" header, or a
	// ?token= query parameter (which sets the cookie and redirects to the
	// same address without it).
	Token string
	// TrialRoot is the directory a trial's relative Dir is relative to
	// (the store file's directory).
	TrialRoot string
	// LogTail is how many bytes of the end of each of a trial's
	// stdout.log and stderr.log the trial page shows; 0 means 64 KiB.
	LogTail int64
	// Now returns the current time, for running trials' durations; nil
	// means time.Now.
	Now func() time.Time
	// StorePath, when set, is the store's file: the experiments list, an
	// experiment and its curves are then answered from a cache while the
	// file has not changed (same size and modification time, and that time
	// at least a second before the answer was read), so that a polling page
	// over an idle store costs a stat.
	StorePath string
	// Assets, when set, replaces the embedded pages, scripts and styles
	// (the static directory's contents), for working on them without
	// rebuilding.
	Assets fs.FS
}

// cacheFresh is how long after the store file's last change an answer read
// from it is not cached: a write in the same clock tick as the one before
// it may leave the modification time unchanged.
const cacheFresh = time.Second

// maxCached bounds the cached answers; past it the cache starts afresh.
const maxCached = 64

// stamp identifies a version of the store file.
type stamp struct {
	size  int64
	mtime time.Time
}

// cached is one encoded answer.
type cached struct {
	at   stamp
	body []byte
	etag string
}

// DefaultLogTail is the default [Options.LogTail].
const DefaultLogTail = 64 << 10

// maxCurveTrials bounds the trials one curves request may name.
const maxCurveTrials = 200

// tokenCookie is the cookie that carries the token after the first visit.
const tokenCookie = "tune_token"

type server struct {
	r    Reader
	opts Options

	mu    sync.Mutex
	cache map[string]cached
}

// Handler returns the dashboard over r.
func Handler(r Reader, opts Options) http.Handler {
	if opts.LogTail <= 0 {
		opts.LogTail = DefaultLogTail
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &server{r: r, opts: opts}
	sub := opts.Assets
	if sub == nil {
		var err error
		if sub, err = fs.Sub(staticFS, "static"); err != nil {
			panic(err) // the embedded tree is fixed at build time
		}
	}
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(sub)))
	page := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			b, err := fs.ReadFile(sub, name)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-cache")
			_, _ = w.Write(b)
		})
	}
	mux.Handle("GET /{$}", page("index.html"))
	mux.Handle("GET /experiments/{name}", page("experiment.html"))
	mux.Handle("GET /experiments/{name}/trials/{trial}", page("trial.html"))
	mux.HandleFunc("GET /api/experiments", s.experiments)
	mux.HandleFunc("GET /api/experiments/{name}", s.experiment)
	mux.HandleFunc("GET /api/experiments/{name}/trials/{trial}", s.trial)
	mux.HandleFunc("GET /api/experiments/{name}/curves", s.curves)
	mux.HandleFunc("GET /api/experiments/{name}/importance", s.importance)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, req.Method+": the dashboard only reads (GET)")
			return
		}
		writeError(w, http.StatusNotFound, "no such API endpoint; see /api/experiments")
	})
	return s.secure(mux)
}

// secure adds the security headers and, with a token, checks it.
func (s *server) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		// Whatever the store holds, a request fails alone, with a message.
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				writeError(w, http.StatusInternalServerError, fmt.Sprintf("internal error reading %s: %v", req.URL.Path, p))
			}
		}()
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if s.opts.Token == "" {
			next.ServeHTTP(w, req)
			return
		}
		if q := req.URL.Query(); q.Has("token") {
			if !s.tokenOK(q.Get("token")) {
				writeError(w, http.StatusUnauthorized, "wrong token: use the address tune ui printed")
				return
			}
			http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: s.opts.Token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
			q.Del("token")
			u := url.URL{Path: req.URL.Path, RawQuery: q.Encode()}
			http.Redirect(w, req, u.String(), http.StatusSeeOther)
			return
		}
		if c, err := req.Cookie(tokenCookie); err == nil && s.tokenOK(c.Value) {
			next.ServeHTTP(w, req)
			return
		}
		if bearer, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer "); ok && s.tokenOK(bearer) {
			next.ServeHTTP(w, req)
			return
		}
		writeError(w, http.StatusUnauthorized, "this dashboard needs its token: open the address tune ui printed (…?token=…) or send Authorization: Bearer TOKEN")
	})
}

func (s *server) tokenOK(got string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(s.opts.Token)) == 1
}

// storeStamp returns the store file's version, and false when it cannot
// be cached on (no StorePath, a stat error, or a change within cacheFresh).
func (s *server) storeStamp() (stamp, bool) {
	if s.opts.StorePath == "" {
		return stamp{}, false
	}
	fi, err := os.Stat(s.opts.StorePath)
	if err != nil {
		return stamp{}, false
	}
	st := stamp{size: fi.Size(), mtime: fi.ModTime()}
	return st, time.Since(st.mtime) >= cacheFresh
}

// cachedJSON answers with compute's value, reusing the encoded answer to
// the same URL while the store file is unchanged ([Options.StorePath]).
func (s *server) cachedJSON(w http.ResponseWriter, req *http.Request, compute func() (any, error)) {
	key := req.URL.RequestURI()
	at, cacheable := s.storeStamp()
	if cacheable {
		s.mu.Lock()
		c, ok := s.cache[key]
		s.mu.Unlock()
		if ok && c.at == at {
			writeBody(w, req, c.body, c.etag)
			return
		}
	}
	v, err := compute()
	if err != nil {
		readError(w, err)
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("encode: %v", err))
		return
	}
	etag := etagOf(b)
	if cacheable {
		s.mu.Lock()
		if s.cache == nil || len(s.cache) >= maxCached {
			s.cache = map[string]cached{}
		}
		s.cache[key] = cached{at: at, body: b, etag: etag}
		s.mu.Unlock()
	}
	writeBody(w, req, b, etag)
}

func etagOf(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
}

// writeJSON writes v with an ETag, or 304 when the client has it already.
func writeJSON(w http.ResponseWriter, req *http.Request, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("encode: %v", err))
		return
	}
	writeBody(w, req, b, etagOf(b))
}

// writeBody writes the JSON body b whose ETag is etag, or 304 when the
// client has it already.
func writeBody(w http.ResponseWriter, req *http.Request, b []byte, etag string) {
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "no-cache")
	if match := req.Header.Get("If-None-Match"); match != "" && match == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

// apiError is the body of every error answer.
type apiError struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	b, _ := json.Marshal(apiError{Error: msg})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// readError answers a failed store read: 404 for a missing experiment or
// trial, 503 otherwise (the store may be busy or damaged).
func readError(w http.ResponseWriter, err error) {
	if _, ok := errors.AsType[*unprocessable](err); ok {
		writeError(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	if errors.Is(err, experiment.ErrNotFound) {
		writeError(w, http.StatusNotFound, err.Error())
		return
	}
	writeError(w, http.StatusServiceUnavailable, err.Error())
}

// Num is a float64 that encodes NaN and ±Inf as null.
type Num float64

// MarshalJSON implements json.Marshaler.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(f)
}

// importanceView is the importance endpoint's answer: tune importance's
// fANOVA shares with its default options, most important first.
type importanceView struct {
	Method string           `json:"method"`
	Metric string           `json:"metric"`
	Trials int              `json:"trials"`
	Params []importanceTerm `json:"params"`
}

type importanceTerm struct {
	Name       string `json:"name"`
	Importance Num    `json:"importance"`
}

// importance answers the parameter importance of the objective, as tune
// importance computes it with its defaults; 422 while too few trials
// succeeded. Answers are cached like the experiment's, so a page reload
// does not fit the forest again.
func (s *server) importance(w http.ResponseWriter, req *http.Request) {
	s.cachedJSON(w, req, func() (any, error) {
		t, err := results.Load(req.Context(), s.r, req.PathValue("name"))
		if err != nil {
			return nil, err
		}
		in, err := importance.Encode(t, "", nil)
		if err != nil {
			return nil, &unprocessable{err}
		}
		res, err := importance.EvaluateContext(req.Context(), in.Space, in.X, in.Y, importance.Options{})
		if err != nil {
			return nil, &unprocessable{fmt.Errorf("parameter importance: %w", err)}
		}
		v := importanceView{Method: "fANOVA", Metric: in.Metric, Trials: res.Trials}
		for _, sh := range res.Shares() {
			v.Params = append(v.Params, importanceTerm{Name: sh.Name, Importance: Num(sh.Value)})
		}
		return v, nil
	})
}

// unprocessable is a request the experiment cannot answer yet (422).
type unprocessable struct{ err error }

func (e *unprocessable) Error() string { return e.err.Error() }
func (e *unprocessable) Unwrap() error { return e.err }

// tail returns up to n bytes of the end of the file at path, starting at
// a line boundary when it had to cut, and whether it cut.
func tail(path string, n int64) (string, bool, error) {
	// A trial could replace its log with a link to another file: follow none.
	if fi, err := os.Lstat(path); err != nil {
		return "", false, err
	} else if !fi.Mode().IsRegular() {
		return "", false, fmt.Errorf("%s: not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", false, err
	}
	if !st.Mode().IsRegular() {
		return "", false, fmt.Errorf("%s: not a regular file", path)
	}
	off := max(st.Size()-n, 0)
	b, err := io.ReadAll(io.NewSectionReader(f, off, st.Size()-off))
	if err != nil {
		return "", false, err
	}
	cut := off > 0
	if cut {
		if i := strings.IndexByte(string(b), '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return strings.ToValidUTF8(string(b), "\uFFFD"), cut, nil
}

// trialDir resolves a trial's Dir.
func (s *server) trialDir(dir string) string {
	if dir == "" || filepath.IsAbs(dir) {
		return dir
	}
	return filepath.Join(s.opts.TrialRoot, dir)
}
