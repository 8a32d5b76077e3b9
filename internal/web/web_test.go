package web_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tune-hpo/tune/experiment/results"
	"github.com/tune-hpo/tune/internal/importance"
	"github.com/tune-hpo/tune/internal/web"
	"github.com/tune-hpo/tune/store"
	"github.com/tune-hpo/tune/trial"
)

// served fills a store with n trials and serves it.
func served(t *testing.T, n int, opts web.Options) (*httptest.Server, []genTrial, *store.Store) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tune.db")
	gen := fillStore(t, path, n)
	st, err := store.Open(path, &store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	opts.TrialRoot = filepath.Dir(path)
	srv := httptest.NewServer(web.Handler(st, opts))
	t.Cleanup(srv.Close)
	return srv, gen, st
}

func get(t *testing.T, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, b := get(t, url, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s: %s", url, resp.Status, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("GET %s: Content-Type %q", url, ct)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v\n%s", url, err, b)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }

func TestExperimentAPI(t *testing.T) {
	srv, gen, _ := served(t, 60, web.Options{})
	var list []web.ExperimentSummary
	getJSON(t, srv.URL+"/api/experiments", &list)
	if len(list) != 1 || list[0].Name != "mixed" || list[0].Budget != 60 || list[0].Counts.Trials != 60 {
		t.Fatalf("experiments = %+v", list)
	}
	// Independently: the best counted trial by max accuracy.
	best, bestV := -1, math.Inf(-1)
	failed, running, stopped := 0, 0, 0
	for i, g := range gen {
		if v, ok := g.objective(); ok && v > bestV {
			best, bestV = i, v
		}
		switch g.state {
		case trial.Failed:
			failed++
		case trial.Running:
			running++
		case trial.EarlyStopped:
			stopped++
		}
	}
	e := list[0]
	if e.BestTrial != gen[best].name || e.BestValue == nil || !near(float64(*e.BestValue), bestV) {
		t.Errorf("best = %s %v, want %s %v", e.BestTrial, e.BestValue, gen[best].name, bestV)
	}
	if e.Finished != 59 || e.Counts.Failed != failed || e.Counts.Running != running || e.Counts.EarlyStopped != stopped {
		t.Errorf("counts = %+v finished %d, want %d failed, %d running, %d early stopped, 59 finished", e.Counts, e.Finished, failed, running, stopped)
	}

	var d struct {
		Params []web.Param `json:"params"`
		Best   int         `json:"best"`
		Goal   string      `json:"goal"`
		Trials []struct {
			Name      string              `json:"name"`
			State     string              `json:"state"`
			Params    []any               `json:"params"`
			Metrics   map[string]*float64 `json:"metrics"`
			Value     *float64            `json:"value"`
			BestSoFar *float64            `json:"bestSoFar"`
			Duration  *float64            `json:"duration"`
		} `json:"trials"`
	}
	getJSON(t, srv.URL+"/api/experiments/mixed", &d)
	if d.Best != best || d.Goal != "maximize" {
		t.Errorf("best index %d goal %s, want %d maximize", d.Best, d.Goal, best)
	}
	if len(d.Params) != 3 || !d.Params[0].Log || !d.Params[0].Numeric || !d.Params[1].Numeric || d.Params[2].Numeric {
		t.Errorf("params = %+v: want lr log-scale numeric, layers numeric, optimizer categorical", d.Params)
	}
	if len(d.Trials) != len(gen) {
		t.Fatalf("%d trials, want %d", len(d.Trials), len(gen))
	}
	runBest := math.NaN()
	for i, g := range gen {
		r := d.Trials[i]
		if r.Name != g.name || r.State != string(g.state) {
			t.Errorf("row %d = %s %s, want %s %s", i, r.Name, r.State, g.name, g.state)
		}
		if lr, ok := r.Params[0].(float64); !ok || lr != g.lr {
			t.Errorf("%s: lr = %v, want the number %v", g.name, r.Params[0], g.lr)
		}
		if l, ok := r.Params[1].(float64); !ok || int(l) != g.layers {
			t.Errorf("%s: layers = %v, want %d", g.name, r.Params[1], g.layers)
		}
		if o, ok := r.Params[2].(string); !ok || o != g.optimizer {
			t.Errorf("%s: optimizer = %v, want %q", g.name, r.Params[2], g.optimizer)
		}
		// Strategies: accuracy max (the objective, maximised), loss min.
		wantAcc, wantLoss := math.Inf(-1), math.Inf(1)
		for j := range g.acc {
			wantAcc, wantLoss = max(wantAcc, g.acc[j]), min(wantLoss, g.loss[j])
		}
		if a := r.Metrics["accuracy"]; a == nil || !near(*a, wantAcc) {
			t.Errorf("%s: accuracy %v, want %v", g.name, a, wantAcc)
		}
		if l := r.Metrics["loss"]; l == nil || !near(*l, wantLoss) {
			t.Errorf("%s: loss %v, want %v", g.name, l, wantLoss)
		}
		v, counts := g.objective()
		if counts != (r.Value != nil) || counts && !near(*r.Value, v) {
			t.Errorf("%s (%s): value %v, want %v counted %v", g.name, g.state, r.Value, v, counts)
		}
		if counts && (math.IsNaN(runBest) || v > runBest) {
			runBest = v
		}
		if math.IsNaN(runBest) != (r.BestSoFar == nil) || r.BestSoFar != nil && !near(*r.BestSoFar, runBest) {
			t.Errorf("%s: best so far %v, want %v", g.name, r.BestSoFar, runBest)
		}
		if g.state.Final() != (r.Duration != nil) || g.state.Final() && !near(*r.Duration, 0.1*float64(len(g.acc))) {
			t.Errorf("%s: duration %v s, want %v", g.name, r.Duration, 0.1*float64(len(g.acc)))
		}
	}
}

func TestTrialAPI(t *testing.T) {
	srv, gen, _ := served(t, 12, web.Options{LogTail: 40})
	g := gen[9] // seq 10: failed
	var d web.TrialDetail
	getJSON(t, srv.URL+"/api/experiments/mixed/trials/"+g.name, &d)
	if d.Name != g.name || d.State != "Failed" || d.ExitCode == nil || *d.ExitCode != 3 || d.Reason != "TrialFailed" {
		t.Errorf("trial = %s %s exit %v reason %s, want Failed exit 3 TrialFailed", d.Name, d.State, d.ExitCode, d.Reason)
	}
	if len(d.Params) != 3 || d.Params[0].Name != "lr" || d.Params[0].Value != strconv.FormatFloat(g.lr, 'g', -1, 64) || d.Params[2].Value != g.optimizer {
		t.Errorf("params = %+v", d.Params)
	}
	acc := d.Curves["accuracy"]
	if len(acc) != len(g.acc) {
		t.Fatalf("accuracy curve has %d points, want %d", len(acc), len(g.acc))
	}
	for i, p := range acc {
		if p.Step != int64(i+1) || float64(p.Value) != g.acc[i] {
			t.Errorf("accuracy point %d = step %d %v, want step %d %v", i, p.Step, p.Value, i+1, g.acc[i])
		}
	}
	if m := d.Metrics["loss"]; m.Count != len(g.loss) || m.Strategy != "min" {
		t.Errorf("loss summary = %+v", m)
	}
	// The stdout tail: at most 40 bytes, whole lines, marked truncated when cut.
	if d.Stdout.Error != "" || len(d.Stdout.Text) > 40 || d.Stderr.Text != "warning: trial "+g.name+"\n" {
		t.Errorf("stdout %+v stderr %+v", d.Stdout, d.Stderr)
	}
	if d.Stdout.Text != "" && !strings.HasSuffix(d.Stdout.Text, "\n") {
		t.Errorf("stdout tail %q does not end a line", d.Stdout.Text)
	}

	var cv web.Curves
	getJSON(t, srv.URL+"/api/experiments/mixed/curves?trial="+gen[0].name+"&trial="+gen[1].name, &cv)
	if len(cv.Trials) != 2 || len(cv.Trials[gen[1].name]["loss"]) != len(gen[1].loss) {
		t.Errorf("curves = %+v", cv)
	}
	many := srv.URL + "/api/experiments/mixed/curves?" + strings.Repeat("trial=mixed-0001&", 201)
	if resp, b := get(t, many, nil); resp.StatusCode != 400 || !strings.Contains(string(b), "at most 200") {
		t.Errorf("201 curves: %s %s, want 400 naming the limit", resp.Status, b)
	}
}

func TestStdoutTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tune.db")
	gen := fillStore(t, path, 3)
	st, err := store.Open(path, &store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	g := gen[0]
	full, err := os.ReadFile(filepath.Join(filepath.Dir(path), "trials", g.name, "stdout.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tail := range []int64{0, 1 << 20, 30} {
		srv := httptest.NewServer(web.Handler(st, web.Options{TrialRoot: filepath.Dir(path), LogTail: tail}))
		var d web.TrialDetail
		getJSON(t, srv.URL+"/api/experiments/mixed/trials/"+g.name, &d)
		srv.Close()
		if tail != 30 {
			if d.Stdout.Text != string(full) || d.Stdout.Truncated {
				t.Errorf("tail %d: stdout %+v, want all of %q", tail, d.Stdout, full)
			}
			continue
		}
		// Cut: whole lines from the end of the last 30 bytes.
		want := string(full[len(full)-30:])
		if i := strings.IndexByte(want, '\n'); i >= 0 {
			want = want[i+1:]
		}
		if !d.Stdout.Truncated || d.Stdout.Text != want {
			t.Errorf("tail 30: stdout %+v, want %q truncated", d.Stdout, want)
		}
	}
}

func TestETag(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tune.db")
	fillStore(t, path, 5)
	st, err := store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.Handler(st, web.Options{Now: func() time.Time { return time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC) }}))
	defer srv.Close()
	for _, u := range []string{"/api/experiments", "/api/experiments/mixed"} {
		resp, _ := get(t, srv.URL+u, nil)
		etag := resp.Header.Get("ETag")
		if resp.StatusCode != 200 || etag == "" {
			t.Fatalf("%s: %s, ETag %q", u, resp.Status, etag)
		}
		resp, b := get(t, srv.URL+u, map[string]string{"If-None-Match": etag})
		if resp.StatusCode != http.StatusNotModified || len(b) != 0 {
			t.Errorf("%s unchanged: %s with %d bytes, want 304 and no body", u, resp.Status, len(b))
		}
		// A change in the store (the running trial finishes) changes the answer.
		tr, err := st.Trial(t.Context(), "mixed", "mixed-0005")
		if err != nil {
			t.Fatal(err)
		}
		tr.State, tr.Finished = trial.Succeeded, tr.Started.Add(time.Second)
		rec, err := st.Experiment(t.Context(), "mixed")
		if err != nil {
			t.Fatal(err)
		}
		stat := rec.Status
		stat.TrialsRunning, stat.TrialsSucceeded = stat.TrialsRunning-1, stat.TrialsSucceeded+1
		if err := st.SaveTrial(t.Context(), "mixed", tr, nil, &stat); err != nil {
			t.Fatal(err)
		}
		resp, _ = get(t, srv.URL+u, map[string]string{"If-None-Match": etag})
		if resp.StatusCode != 200 || resp.Header.Get("ETag") == etag {
			t.Errorf("%s after a change: %s, ETag %q (was %q), want 200 with a new ETag", u, resp.Status, resp.Header.Get("ETag"), etag)
		}
		// Put it back running for the next URL.
		tr.State, tr.Finished = trial.Running, time.Time{}
		stat.TrialsRunning, stat.TrialsSucceeded = stat.TrialsRunning+1, stat.TrialsSucceeded-1
		if err := st.SaveTrial(t.Context(), "mixed", tr, nil, &stat); err != nil {
			t.Fatal(err)
		}
	}
}

func TestToken(t *testing.T) {
	const token = "0123456789abcdef0123456789abcdef"
	srv, _, _ := served(t, 2, web.Options{Token: token})
	for _, u := range []string{"/", "/api/experiments", "/static/app.js", "/experiments/mixed"} {
		if resp, _ := get(t, srv.URL+u, nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s without a token: %s, want 401", u, resp.Status)
		}
		if resp, _ := get(t, srv.URL+u, map[string]string{"Authorization": "Bearer nope"}); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s with a wrong token: %s, want 401", u, resp.Status)
		}
		if resp, _ := get(t, srv.URL+u, map[string]string{"Authorization": "Bearer " + token}); resp.StatusCode != 200 {
			t.Errorf("%s with the bearer token: %s, want 200", u, resp.Status)
		}
		if resp, _ := get(t, srv.URL+u, map[string]string{"Cookie": "tune_token=" + token}); resp.StatusCode != 200 {
			t.Errorf("%s with the cookie: %s, want 200", u, resp.Status)
		}
	}
	if resp, _ := get(t, srv.URL+"/experiments/mixed?token=wrong", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("?token=wrong: %s, want 401", resp.Status)
	}
	resp, _ := get(t, srv.URL+"/experiments/mixed?token="+token+"&x=1", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/experiments/mixed?x=1" {
		t.Errorf("?token=right: %s to %q, want 303 to the address without the token", resp.Status, resp.Header.Get("Location"))
	}
	var c *http.Cookie
	for _, k := range resp.Cookies() {
		if k.Name == "tune_token" {
			c = k
		}
	}
	if c == nil || c.Value != token || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
		t.Errorf("cookie = %+v, want tune_token HttpOnly SameSite=Strict", c)
	}
	// Loopback use: no token configured, none needed.
	open, _, _ := served(t, 2, web.Options{})
	if resp, _ := get(t, open.URL+"/api/experiments", nil); resp.StatusCode != 200 {
		t.Errorf("no token configured: %s, want 200", resp.Status)
	}
}

// TestImportance checks that the importance endpoint answers tune
// importance's shares (its defaults) for the stored trials, and says why
// when too few trials succeeded.
func TestImportance(t *testing.T) {
	srv, _, st := served(t, 40, web.Options{})
	tab, err := results.Load(t.Context(), st, "mixed")
	if err != nil {
		t.Fatal(err)
	}
	in, err := importance.Encode(tab, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := importance.Evaluate(in.Space, in.X, in.Y, importance.Options{})
	if err != nil {
		t.Fatal(err)
	}
	resp, b := get(t, srv.URL+"/api/experiments/mixed/importance", nil)
	var got struct {
		Method string
		Metric string
		Trials int
		Params []struct {
			Name       string
			Importance float64
		}
	}
	if resp.StatusCode != 200 || json.Unmarshal(b, &got) != nil {
		t.Fatalf("GET importance: %s %s", resp.Status, b)
	}
	shares := want.Shares()
	if got.Method != "fANOVA" || got.Metric != tab.Objective || got.Trials != want.Trials || len(got.Params) != len(shares) {
		t.Fatalf("importance = %+v, want fANOVA of %s over %d trials with %d terms", got, tab.Objective, want.Trials, len(shares))
	}
	for i, sh := range shares {
		if got.Params[i].Name != sh.Name || got.Params[i].Importance != sh.Value {
			t.Errorf("term %d = %+v, want %s %v", i, got.Params[i], sh.Name, sh.Value)
		}
	}

	few, _, _ := served(t, 1, web.Options{})
	resp, b = get(t, few.URL+"/api/experiments/mixed/importance", nil)
	var e struct{ Error string }
	if resp.StatusCode != http.StatusUnprocessableEntity || json.Unmarshal(b, &e) != nil || !strings.Contains(e.Error, "at least 2") {
		t.Errorf("importance of one trial: %s %s, want 422 saying it needs at least 2", resp.Status, b)
	}
}

func TestErrorsAndSlots(t *testing.T) {
	srv, _, _ := served(t, 3, web.Options{})
	cases := []struct {
		url  string
		code int
		says string
	}{
		{"/api/experiments/nope/importance", 404, "nope"},
		{"/api/experiments/nope", 404, "nope"},
		{"/api/experiments/mixed/trials/mixed-0099", 404, "mixed-0099"},
		{"/api/experiments/nope/curves?trial=a", 404, "nope"},
		{"/api/other", 404, "/api/experiments"},
	}
	for _, c := range cases {
		resp, b := get(t, srv.URL+c.url, nil)
		var e struct{ Error string }
		if resp.StatusCode != c.code || json.Unmarshal(b, &e) != nil || !strings.Contains(e.Error, c.says) {
			t.Errorf("GET %s: %s %s, want %d with an error naming %q", c.url, resp.Status, b, c.code, c.says)
		}
	}
	if resp, _ := get(t, srv.URL+"/nope", nil); resp.StatusCode != 404 {
		t.Errorf("GET /nope: %s, want 404", resp.Status)
	}
	if resp, _ := get(t, srv.URL+"/api/experiments", nil); resp.Header.Get("Content-Security-Policy") == "" {
		t.Error("no Content-Security-Policy header")
	}
}

func TestEmptyStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tune.db")
	st, err := store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Experiments(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.Handler(st, web.Options{}))
	defer srv.Close()
	resp, b := get(t, srv.URL+"/api/experiments", nil)
	if resp.StatusCode != 200 || strings.TrimSpace(string(b)) != "[]" {
		t.Errorf("empty store: %s %s, want 200 []", resp.Status, b)
	}
	// An experiment without trials: no best, an empty table, no panic.
	gen := filepath.Join(t.TempDir(), "one.db")
	fillStore(t, gen, 1) // one running trial: nothing counts
	st1, err := store.Open(gen, &store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	srv1 := httptest.NewServer(web.Handler(st1, web.Options{}))
	defer srv1.Close()
	var d web.ExperimentDetail
	getJSON(t, srv1.URL+"/api/experiments/mixed", &d)
	if d.Best != -1 || len(d.Trials) != 1 || d.Trials[0].Value != nil || d.BestValue != nil {
		t.Errorf("one running trial: best %d, %d trials, value %v", d.Best, len(d.Trials), d.Trials[0].Value)
	}
}

func TestNonFiniteNumbers(t *testing.T) {
	for _, c := range []struct {
		in   float64
		want string
	}{{math.NaN(), "null"}, {math.Inf(1), "null"}, {math.Inf(-1), "null"}, {0.25, "0.25"}, {-3, "-3"}} {
		b, err := json.Marshal(web.Num(c.in))
		if err != nil || string(b) != c.want {
			t.Errorf("Num(%v) = %s %v, want %s", c.in, b, err, c.want)
		}
	}
}

// TestVendoredAssets checks the embedded chart library against the sums
// recorded in static/vendor/VERSIONS and that pages and scripts are served
// with their types.
func TestVendoredAssets(t *testing.T) {
	f, err := os.Open("static/vendor/VERSIONS")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	srv, _, _ := served(t, 1, web.Options{})
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "\t")
		if len(fields) != 5 {
			t.Fatalf("VERSIONS line %q: want package, version, licence, file, sha256", line)
		}
		resp, b := get(t, srv.URL+"/static/vendor/"+fields[3], nil)
		sum := sha256.Sum256(b)
		if resp.StatusCode != 200 || hex.EncodeToString(sum[:]) != fields[4] {
			t.Errorf("%s: %s, sha256 %x, want %s", fields[3], resp.Status, sum, fields[4])
		}
		n++
	}
	if n == 0 {
		t.Fatal("VERSIONS lists nothing")
	}
	for u, ct := range map[string]string{"/": "text/html", "/experiments/mixed": "text/html", "/experiments/mixed/trials/mixed-0001": "text/html",
		"/static/app.js": "text/javascript", "/static/style.css": "text/css"} {
		resp, b := get(t, srv.URL+u, nil)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), ct) || len(b) == 0 {
			t.Errorf("GET %s: %s %q, want 200 %s", u, resp.Status, resp.Header.Get("Content-Type"), ct)
		}
	}
	// Pages load nothing from elsewhere: every src and href is local.
	err = fs.WalkDir(os.DirFS("static"), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || !strings.HasSuffix(p, ".html") {
			return err
		}
		b, err := os.ReadFile(filepath.Join("static", p))
		if err != nil {
			return err
		}
		if strings.Contains(string(b), "://") {
			t.Errorf("%s refers to another host", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// countingReader counts the experiment reads that reach the store.
type countingReader struct {
	*store.Store
	n atomic.Int32
}

func (c *countingReader) Trials(ctx context.Context, exp string) ([]trial.Trial, error) {
	c.n.Add(1)
	return c.Store.Trials(ctx, exp)
}

func TestCacheFollowsTheStoreFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tune.db")
	fillStore(t, path, 5)
	st, err := store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	cr := &countingReader{Store: st}
	srv := httptest.NewServer(web.Handler(cr, web.Options{StorePath: path}))
	defer srv.Close()
	quiet := func() { // the file last changed two seconds ago
		old := time.Now().Add(-2 * time.Second)
		if err := os.Chtimes(path, old, old); err != nil {
			t.Fatal(err)
		}
	}
	quiet()
	u := srv.URL + "/api/experiments/mixed"
	resp, first := get(t, u, nil)
	etag := resp.Header.Get("ETag")
	if _, again := get(t, u, nil); string(again) != string(first) || cr.n.Load() != 1 {
		t.Errorf("unchanged store: %d reads for two requests, want 1 (the second from the cache)", cr.n.Load())
	}
	if resp, _ := get(t, u, map[string]string{"If-None-Match": etag}); resp.StatusCode != http.StatusNotModified || cr.n.Load() != 1 {
		t.Errorf("cached revalidation: %s after %d reads, want 304 without a read", resp.Status, cr.n.Load())
	}
	// A write: the next answer is read again and shows it.
	tr, err := st.Trial(t.Context(), "mixed", "mixed-0005")
	if err != nil {
		t.Fatal(err)
	}
	tr.State, tr.Finished = trial.Succeeded, tr.Started.Add(time.Second)
	if err := st.SaveTrial(t.Context(), "mixed", tr, nil, nil); err != nil {
		t.Fatal(err)
	}
	var d web.ExperimentDetail
	getJSON(t, u, &d)
	if d.Trials[4].State != "Succeeded" || cr.n.Load() != 2 {
		t.Errorf("after a write: trial 5 %s after %d reads, want Succeeded read afresh", d.Trials[4].State, cr.n.Load())
	}
	// The file changed under a second ago (here: its time is ahead of the
	// clock, as just after a write): a write in the same clock tick could
	// hide behind the same time, so nothing is cached yet.
	soon := time.Now().Add(time.Hour)
	if err := os.Chtimes(path, soon, soon); err != nil {
		t.Fatal(err)
	}
	get(t, u, nil)
	get(t, u, nil)
	if cr.n.Load() != 4 {
		t.Errorf("a store changed under a second ago was answered from the cache (%d reads, want 4)", cr.n.Load())
	}
	quiet()
	get(t, u, nil)
	get(t, u, nil)
	if cr.n.Load() != 5 {
		t.Errorf("quiet again: %d reads, want 5 (one more, then the cache)", cr.n.Load())
	}
}

func TestLogLinkNotFollowed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tune.db")
	gen := fillStore(t, path, 2)
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("not for the dashboard\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(filepath.Dir(path), "trials", gen[0].name, "stdout.log")
	if err := os.Remove(log); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, log); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(path, &store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.Handler(st, web.Options{TrialRoot: filepath.Dir(path)}))
	defer srv.Close()
	var d web.TrialDetail
	getJSON(t, srv.URL+"/api/experiments/mixed/trials/"+gen[0].name, &d)
	if strings.Contains(d.Stdout.Text, "not for") || !strings.Contains(d.Stdout.Error, "not a regular file") {
		t.Errorf("stdout through a link = %+v, want refused", d.Stdout)
	}
	if d.Stderr.Error != "" || d.Stderr.Text == "" {
		t.Errorf("stderr = %+v, want the log", d.Stderr)
	}
}

// panicReader fails the way a reader of an unexpected record might.
type panicReader struct{ *store.Store }

func (panicReader) Trials(context.Context, string) ([]trial.Trial, error) { panic("odd record") }

func TestPanicAnswersAlone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tune.db")
	fillStore(t, path, 2)
	st, err := store.Open(path, &store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.Handler(panicReader{st}, web.Options{}))
	defer srv.Close()
	resp, b := get(t, srv.URL+"/api/experiments/mixed", nil)
	if resp.StatusCode != 500 || !strings.Contains(string(b), "odd record") {
		t.Errorf("a panicking read: %s %s, want 500 with the message", resp.Status, b)
	}
	if resp, _ := get(t, srv.URL+"/api/experiments", nil); resp.StatusCode != 200 {
		t.Errorf("after it: %s, want the server still answering", resp.Status)
	}
}

func TestAssetsAndMethods(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("<p>dev</p>"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv, _, _ := served(t, 1, web.Options{Assets: os.DirFS(dir)})
	if resp, b := get(t, srv.URL+"/", nil); resp.StatusCode != 200 || string(b) != "<p>dev</p>" {
		t.Errorf("GET / with Assets: %s %q, want the directory's index.html", resp.Status, b)
	}
	req, err := http.NewRequest("POST", srv.URL+"/api/experiments", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") == "" {
		t.Errorf("POST /api/experiments: %s, want 405 with Allow", resp.Status)
	}
}
