package results_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/experiment/results"
	"github.com/tune-hpo/tune/trial"
)

// seqs returns the trial numbers of the rows at idx.
func seqs(tab *results.Table, idx []int) []int {
	out := make([]int, len(idx))
	for i, j := range idx {
		out[i] = tab.Rows[j].Trial.Seq
	}
	return out
}

func all(tab *results.Table) []int {
	idx := make([]int, len(tab.Rows))
	for i := range idx {
		idx[i] = i
	}
	return idx
}

func TestRankedMatchesRankTrials(t *testing.T) {
	src := mixed(t)
	tab, err := results.Load(t.Context(), src, "mixed")
	if err != nil {
		t.Fatal(err)
	}
	// accuracy is maximized with strategy max: 4 has 0.9, 1 has 0.7, 3 has
	// 0.65; 2 failed and 5 runs, so they follow in creation order.
	if got, want := seqs(tab, tab.Ranked()), []int{4, 1, 3, 2, 5}; !slices.Equal(got, want) {
		t.Errorf("Ranked = %v, want %v", got, want)
	}
	ranked := slices.Clone(src.trials)
	e := &src.rec.Spec
	experiment.RankTrials(ranked, tab.Objective, e.Goal(), e.Strategies())
	for i, j := range tab.Ranked() {
		if ranked[i].Name != tab.Rows[j].Trial.Name {
			t.Errorf("Ranked()[%d] = %s, experiment.RankTrials puts %s there", i, tab.Rows[j].Trial.Name, ranked[i].Name)
		}
	}
	if tab.Ranked()[0] != tab.Best() {
		t.Errorf("Ranked()[0] = %d, Best() = %d", tab.Ranked()[0], tab.Best())
	}
}

func TestSort(t *testing.T) {
	src := mixed(t)
	tab, err := results.Load(t.Context(), src, "mixed")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 2, 3, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		key  string
		desc bool
		want []int
	}{
		// Every trial reported accuracy, whatever its state: 0.7 0.99 0.65 0.9 0.95.
		{"accuracy", false, []int{3, 1, 4, 5, 2}},
		{"accuracy", true, []int{2, 5, 4, 1, 3}},
		// Only 1 (min 0.4) and 4 (0.2) reported loss; the others come last
		// in either direction.
		{"loss", false, []int{4, 1, 2, 3, 5}},
		{"metrics.loss", true, []int{1, 4, 2, 3, 5}},
		// lr numerically, not as text ("0.0005" < "0.001" < ... < "0.05").
		{"lr", false, []int{3, 1, 5, 2, 4}},
		{"layers", true, []int{3, 5, 1, 2, 4}},
		{".parameters.layers", true, []int{3, 5, 1, 2, 4}},
		{".metrics.accuracy", false, []int{3, 1, 4, 5, 2}},
		// Categorical: as text, stable.
		{"optimizer", false, []int{1, 4, 2, 3, 5}},
		{"status", false, []int{2, 5, 1, 3, 4}},
		{"name", true, []int{5, 4, 3, 2, 1}},
		// Trial n ran n minutes; 5 still runs: started 03:04:10, now 03:30.
		{"duration", true, []int{5, 4, 3, 2, 1}},
		{"duration", false, []int{1, 2, 3, 4, 5}},
	} {
		k, err := tab.Key(tc.key)
		if err != nil {
			t.Fatalf("Key(%q): %v", tc.key, err)
		}
		idx := all(tab)
		tab.Sort(idx, k, tc.desc, now)
		if got := seqs(tab, idx); !slices.Equal(got, tc.want) {
			t.Errorf("Sort(%s, desc=%v) = %v, want %v", tc.key, tc.desc, got, tc.want)
		}
	}
}

func TestSortNamesByCreation(t *testing.T) {
	src := mixed(t)
	for i := range 11 {
		tr := src.trials[0]
		tr.Seq = 6 + i
		tr.Name = experiment.TrialName("mixed", 6+i)
		src.trials = append(src.trials, tr)
	}
	tab, err := results.Load(t.Context(), src, "mixed")
	if err != nil {
		t.Fatal(err)
	}
	k, _ := tab.Key("name")
	idx := all(tab)
	tab.Sort(idx, k, false, time.Now())
	got := seqs(tab, idx)
	if !slices.IsSorted(got) {
		t.Errorf("sorted by name: %v, want creation order (mixed-9 before mixed-10)", got)
	}
}

func TestKeyUnknownListsKnown(t *testing.T) {
	src := mixed(t)
	tab, err := results.Load(t.Context(), src, "mixed")
	if err != nil {
		t.Fatal(err)
	}
	_, err = tab.Key("acc")
	if err == nil {
		t.Fatal("Key(acc): no error")
	}
	for _, want := range []string{`"acc"`, "accuracy", "loss", "lr", "layers", "optimizer", "duration", "created"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

func TestFilter(t *testing.T) {
	src := mixed(t)
	tab, err := results.Load(t.Context(), src, "mixed")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 2, 3, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		expr string
		want []int
	}{
		{"", []int{1, 2, 3, 4, 5}},
		// Numbers compare as numbers: 0.0005 and 0.001 and 0.002 are < 0.005.
		{"lr<0.005", []int{1, 3, 5}},
		{"lr<=0.001", []int{1, 3}},
		{"lr>=0.01,optimizer=adam", []int{4}},
		{"optimizer!=adam", []int{2, 3, 5}},
		{" layers > 3 , accuracy>0.9 ", []int{5}},
		{"layers==2", []int{2}},
		// Only trials that reported loss take part, != included.
		{"loss!=0.4", []int{4}},
		{"loss>0", []int{1, 4}},
		{"status=succeeded", []int{1, 3, 4}},
		{"status!=SUCCEEDED", []int{2, 5}},
		{"duration>=3m", []int{3, 4, 5}},
		{"duration<90", []int{1}},
		{"name=mixed-0002", []int{2}},
		{"name>mixed-0003", []int{4, 5}},
		{"created>=2026-01-02", []int{1, 2, 3, 4, 5}},
		{"created<2026-01-02T03:04:05Z", nil},
		{"params.lr>0.01", []int{4}},
	} {
		f, err := tab.ParseFilter(tc.expr)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", tc.expr, err)
			continue
		}
		var got []int
		for i := range tab.Rows {
			if tab.Match(f, &tab.Rows[i], now) {
				got = append(got, tab.Rows[i].Trial.Seq)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("filter %q matched %v, want %v", tc.expr, got, tc.want)
		}
	}
}

func TestFilterErrors(t *testing.T) {
	src := mixed(t)
	tab, err := results.Load(t.Context(), src, "mixed")
	if err != nil {
		t.Fatal(err)
	}
	for expr, want := range map[string][]string{
		"lr<0.01,acc>1":   {`"acc>1"`, "unknown column", "accuracy"},
		"lr~0.1":          {`"lr~0.1"`, "COLUMN OP VALUE"},
		"lr<fast":         {`"lr<fast"`, "numeric", `"fast"`},
		"<3":              {"missing column"},
		"status=done":     {`"done"`, "Succeeded", "EarlyStopped"},
		"created>tuesday": {"RFC 3339"},
	} {
		_, err := tab.ParseFilter(expr)
		if err == nil {
			t.Errorf("ParseFilter(%q): no error", expr)
			continue
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("ParseFilter(%q) = %q, want it to contain %s", expr, err, w)
			}
		}
	}
}

func TestParseStates(t *testing.T) {
	got, err := results.ParseStates("succeeded, FAILED,Succeeded,earlystopped")
	if err != nil {
		t.Fatal(err)
	}
	if want := []trial.State{trial.Succeeded, trial.Failed, trial.EarlyStopped}; !slices.Equal(got, want) {
		t.Errorf("ParseStates = %v, want %v", got, want)
	}
	if _, err := results.ParseStates("Succeeded,done"); err == nil || !strings.Contains(err.Error(), `"done"`) || !strings.Contains(err.Error(), "MetricsUnavailable") {
		t.Errorf("ParseStates(done) = %v, want an error naming it and the known states", err)
	}
}
