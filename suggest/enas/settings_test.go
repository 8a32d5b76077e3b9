package enas

import (
	"errors"
	"strings"
	"testing"

	"github.com/tune-hpo/tune/suggest"
)

func TestSettings(t *testing.T) {
	s, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	katib := config{hidden: 64, temperature: 5, tanhConst: 2.25, entropyWeight: 1e-5, baselineDecay: 0.999,
		learningRate: 5e-5, skipTarget: 0.4, skipWeight: 0.8, trainSteps: 50}
	if s.cfg != katib || s.hasSeed {
		t.Errorf("defaults %+v (seed %v), want Katib's %+v", s.cfg, s.hasSeed, katib)
	}
	s, err = New(map[string]string{
		"controller_hidden_size": "8", "controller_temperature": "None", "controller_tanh_const": "1.5",
		"controller_entropy_weight": "None", "controller_baseline_decay": "1", "controller_learning_rate": "0.01",
		"controller_skip_target": "1", "controller_skip_weight": "None", "controller_train_steps": "3",
		"controller_log_every_steps": "1", "random_state": "42",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := config{hidden: 8, tanhConst: 1.5, baselineDecay: 1, learningRate: 0.01, skipTarget: maxSkipTarget, trainSteps: 3}
	if s.cfg != want || s.seed != 42 || !s.hasSeed {
		t.Errorf("settings %+v seed %d, want %+v seed 42", s.cfg, s.seed, want)
	}
	for _, tc := range []struct{ name, value, msg string }{
		{"controller_hidden_size", "0", "want an integer from 1 to 1024"},
		{"controller_hidden_size", "4096", "want an integer from 1 to 1024"},
		{"controller_hidden_size", "None", "want an integer from 1 to 1024"},
		{"controller_temperature", "0", "want a positive number or None"},
		{"controller_tanh_const", "-1", "want a positive number or None"},
		{"controller_entropy_weight", "x", "want a positive number or None"},
		{"controller_skip_weight", "Inf", "want a positive number or None"},
		{"controller_baseline_decay", "0", "want a number in (0, 1]"},
		{"controller_learning_rate", "1.5", "want a number in (0, 1]"},
		{"controller_skip_target", "None", "want a number in (0, 1]"},
		{"controller_train_steps", "0", "want a positive integer"},
		{"controller_log_every_steps", "1.5", "want a positive integer"},
		{"random_state", "-1", "want a non-negative integer"},
		{"controller_hiden_size", "8", `unknown setting "controller_hiden_size"`},
	} {
		_, err := New(map[string]string{tc.name: tc.value})
		var se *suggest.SettingError
		if err == nil || !strings.Contains(err.Error(), tc.msg) || !errors.As(err, &se) || se.Name != tc.name {
			t.Errorf("New(%s=%s) = %v, want a SettingError for %s containing %q", tc.name, tc.value, err, tc.name, tc.msg)
		}
	}
}
