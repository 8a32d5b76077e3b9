package suggest_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tune-hpo/tune/suggest"
)

func TestSettingsReads(t *testing.T) {
	r := suggest.ReadSettings("alg", map[string]string{
		"n": "3", "f": "0.5", "g": "2", "h": "0.25", "c": "B", "random_state": "7", "s": "anything", "progress": "x",
	})
	r.Ignore("progress")
	if n, ok := r.Int("n", 1); !ok || n != 3 {
		t.Errorf("Int = %v, %v", n, ok)
	}
	if f, ok := r.FloatAbove("f", 0); !ok || f != 0.5 {
		t.Errorf("FloatAbove = %v, %v", f, ok)
	}
	if f, ok := r.FloatAtLeast("g", 2); !ok || f != 2 {
		t.Errorf("FloatAtLeast = %v, %v", f, ok)
	}
	if f, ok := r.FloatBetween("h", 0, 1); !ok || f != 0.25 {
		t.Errorf("FloatBetween = %v, %v", f, ok)
	}
	if v, ok := r.Choice("c", "A or B", func(v string) bool { return v == "A" || v == "B" }); !ok || v != "B" {
		t.Errorf("Choice = %v, %v", v, ok)
	}
	if seed, ok := r.Seed(); !ok || seed != 7 {
		t.Errorf("Seed = %v, %v", seed, ok)
	}
	if v, ok := r.String("s"); !ok || v != "anything" {
		t.Errorf("String = %v, %v", v, ok)
	}
	if _, ok := r.Int("absent", 0); ok {
		t.Error("Int of an absent setting reported it given")
	}
	if err := r.Done(); err != nil {
		t.Errorf("Done = %v", err)
	}
}

func TestSettingsReportsEveryProblem(t *testing.T) {
	r := suggest.ReadSettings("alg", map[string]string{
		"n": "0", "f": "inf", "g": "x", "h": "1", "c": "C", "zz": "1", "b": "x", "b_alias": "3",
	})
	r.Alias("b_alias", "b")
	r.Int("n", 1)
	r.FloatAbove("f", 0)
	r.FloatAtLeast("g", 0)
	r.FloatBetween("h", 0, 1)
	r.Choice("c", "A or B", func(v string) bool { return v == "A" })
	r.Int("b", 0)
	r.Unused("u")
	r.Errorf("setting %q is required", "q")
	err := r.Done()
	want := []string{
		`alg: setting b="x": want a non-negative integer`, // b sorts before its alias, so its value is read
		`alg: setting b given twice, as b and b_alias`,
		`alg: setting c="C": want A or B`,
		`alg: setting f="inf": want a positive number`,
		`alg: setting g="x": want a non-negative number: strconv.ParseFloat`,
		`alg: setting h="1": want a number between 0 and 1, exclusive`,
		`alg: setting n="0": want a positive integer`,
		`alg: unknown setting "zz" (allowed: n, f, g, h, c, b, u, which alg ignores, b_alias)`,
		`alg: setting "q" is required`,
	}
	if err == nil {
		t.Fatal("Done = nil, want errors")
	}
	errs := err.(interface{ Unwrap() []error }).Unwrap()
	if len(errs) != len(want) {
		t.Fatalf("Done = %d errors, want %d:\n%v", len(errs), len(want), err)
	}
	for i, e := range errs {
		if !strings.HasPrefix(e.Error(), want[i]) {
			t.Errorf("error %d = %q, want prefix %q", i, e, want[i])
		}
	}
	// The problems of one setting name it; the others do not.
	names := map[int]string{2: "c", 3: "f", 4: "g", 5: "h", 6: "n", 7: "zz", 0: "b"}
	for i, e := range errs {
		var se *suggest.SettingError
		got := ""
		if errors.As(e, &se) {
			got = se.Name
		}
		if got != names[i] {
			t.Errorf("error %d (%v) names setting %q, want %q", i, e, got, names[i])
		}
	}
}

func TestSettingsRequire(t *testing.T) {
	for _, tc := range []struct {
		given       map[string]string
		wantErr     bool
		wantSetting bool // the problem is the setting's
	}{
		{map[string]string{"r": "x"}, false, false},
		{map[string]string{}, true, false},
		{map[string]string{"r": ""}, true, true},
	} {
		r := suggest.ReadSettings("alg", tc.given)
		r.String("r")
		r.Require("r", "the resource")
		err := r.Done()
		if (err != nil) != tc.wantErr {
			t.Fatalf("%v: Done = %v, want error %v", tc.given, err, tc.wantErr)
		}
		if err == nil {
			continue
		}
		if want := `alg: setting "r" is required: the resource`; err.Error() != want {
			t.Errorf("%v: Done = %q, want %q", tc.given, err, want)
		}
		var se *suggest.SettingError
		if got := errors.As(err, &se); got != tc.wantSetting {
			t.Errorf("%v: a SettingError: %v, want %v", tc.given, got, tc.wantSetting)
		}
	}
}
