package darts_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/darts"
)

func filter(values ...string) suggest.Space {
	return suggest.Space{{Name: "filter_size", Type: suggest.Categorical, Values: values}}
}

// The expected strings are what Katib's suggestion service
// (pkg/suggestion/v1beta1/nas/darts/service.py at 33c8ff4, GetSuggestions,
// get_search_space and get_algorithm_settings) computes: json.dumps of its
// dict of defaults updated with the experiment's settings (given values
// stay strings; "None" becomes None, json null), and of the list of
// operations, each with every double quote then replaced by a single one.
// json.dumps separates items with ", " and keys from values with ": ",
// writes floats with repr (3e-4 is 0.0003, 5.0 stays 5.0) and escapes
// every character outside space..tilde as \uXXXX, in lowercase hex.
// num-layers is str() of graphConfig.numLayers.
func TestRenderMatchesKatib(t *testing.T) {
	for _, tc := range []struct {
		name     string
		nas      *suggest.NASConfig
		settings map[string]string
		want     suggest.Assignment
	}{
		{
			// examples/v1beta1/nas/darts-cpu.yaml
			name:     "darts-cpu",
			nas:      &suggest.NASConfig{NumLayers: 1, Operations: []suggest.NASOperation{{Type: "max_pooling", Parameters: filter("3")}}},
			settings: map[string]string{"num_epochs": "1", "num_nodes": "1", "init_channels": "1", "stem_multiplier": "1"},
			want: suggest.Assignment{
				"algorithm-settings": "{'num_epochs': '1', 'w_lr': 0.025, 'w_lr_min': 0.001, 'w_momentum': 0.9, 'w_weight_decay': 0.0003, 'w_grad_clip': 5.0, 'alpha_lr': 0.0003, 'alpha_weight_decay': 0.001, 'batch_size': 128, 'num_workers': 4, 'init_channels': '1', 'print_step': 50, 'num_nodes': '1', 'stem_multiplier': '1'}",
				"search-space":       "['max_pooling_3x3']",
				"num-layers":         "1",
			},
		},
		{
			// examples/v1beta1/nas/darts-gpu.yaml: skip_connection has no
			// parameters and enters the space by itself.
			name: "darts-gpu",
			nas: &suggest.NASConfig{NumLayers: 3, Operations: []suggest.NASOperation{
				{Type: "separable_convolution", Parameters: filter("3")},
				{Type: "dilated_convolution", Parameters: filter("3", "5")},
				{Type: "avg_pooling", Parameters: filter("3")},
				{Type: "max_pooling", Parameters: filter("3")},
				{Type: "skip_connection"},
			}},
			settings: map[string]string{"num_epochs": "3"},
			want: suggest.Assignment{
				"algorithm-settings": "{'num_epochs': '3', 'w_lr': 0.025, 'w_lr_min': 0.001, 'w_momentum': 0.9, 'w_weight_decay': 0.0003, 'w_grad_clip': 5.0, 'alpha_lr': 0.0003, 'alpha_weight_decay': 0.001, 'batch_size': 128, 'num_workers': 4, 'init_channels': 16, 'print_step': 50, 'num_nodes': 4, 'stem_multiplier': 3}",
				"search-space":       "['separable_convolution_3x3', 'dilated_convolution_3x3', 'dilated_convolution_5x5', 'avg_pooling_3x3', 'max_pooling_3x3', 'skip_connection']",
				"num-layers":         "3",
			},
		},
		{
			// None, and the escapes of json.dumps: a double quote becomes
			// \" and then \' by the replacement; DEL, é and 😀 (a surrogate
			// pair) as \u escapes. Only the first parameter of an operation
			// counts, and an empty operation list gives [].
			name:     "escapes",
			nas:      &suggest.NASConfig{NumLayers: 2},
			settings: map[string]string{"batch_size": "None", "w_lr": "a\"b\\c\n\x7fé😀\t"},
			want: suggest.Assignment{
				"algorithm-settings": `{'num_epochs': 50, 'w_lr': 'a\'b\\c\n\u007f\u00e9\ud83d\ude00\t', 'w_lr_min': 0.001, 'w_momentum': 0.9, 'w_weight_decay': 0.0003, 'w_grad_clip': 5.0, 'alpha_lr': 0.0003, 'alpha_weight_decay': 0.001, 'batch_size': null, 'num_workers': 4, 'init_channels': 16, 'print_step': 50, 'num_nodes': 4, 'stem_multiplier': 3}`,
				"search-space":       "[]",
				"num-layers":         "2",
			},
		},
		{
			name: "first parameter only",
			nas: &suggest.NASConfig{NumLayers: 1, Operations: []suggest.NASOperation{{Type: "convolution", Parameters: suggest.Space{
				{Name: "filter_size", Type: suggest.Categorical, Values: []string{"5", "7"}},
				{Name: "num_filter", Type: suggest.Categorical, Values: []string{"32"}},
			}}}},
			want: suggest.Assignment{
				"algorithm-settings": "{'num_epochs': 50, 'w_lr': 0.025, 'w_lr_min': 0.001, 'w_momentum': 0.9, 'w_weight_decay': 0.0003, 'w_grad_clip': 5.0, 'alpha_lr': 0.0003, 'alpha_weight_decay': 0.001, 'batch_size': 128, 'num_workers': 4, 'init_channels': 16, 'print_step': 50, 'num_nodes': 4, 'stem_multiplier': 3}",
				"search-space":       "['convolution_5x5', 'convolution_7x7']",
				"num-layers":         "1",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := darts.Render(tc.nas, tc.settings)
			if err != nil {
				t.Fatal(err)
			}
			for k, want := range tc.want {
				if got[k] != want {
					t.Errorf("%s:\n got %s\nwant %s", k, got[k], want)
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("assignment has %d values, want %d: %v", len(got), len(tc.want), got)
			}
		})
	}
}

func TestSuggest(t *testing.T) {
	s, err := darts.New(map[string]string{"num_epochs": "2", "batch_size": "None"})
	if err != nil {
		t.Fatal(err)
	}
	nas := &suggest.NASConfig{NumLayers: 4, Operations: []suggest.NASOperation{{Type: "skip_connection"}}}
	want, _ := darts.Render(nas, map[string]string{"num_epochs": "2", "batch_size": "None"})
	// Every call, whatever the history, hands the same search to each
	// trial, as Katib's service does.
	hist := []suggest.Observation{{Assignment: want, Status: suggest.Completed}}
	for _, h := range [][]suggest.Observation{nil, hist} {
		got, err := s.Suggest(context.Background(), suggest.Request{NAS: nas, N: 3, History: h})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 {
			t.Fatalf("%d assignments, want 3", len(got))
		}
		for _, a := range got {
			if a.Key() != want.Key() {
				t.Errorf("assignment %v, want %v", a, want)
			}
		}
		if !strings.Contains(got[0]["algorithm-settings"], "'batch_size': null") {
			t.Errorf("batch_size None not rendered as null: %s", got[0]["algorithm-settings"])
		}
	}
	if _, err := s.Suggest(context.Background(), suggest.Request{N: 1}); err == nil || !strings.Contains(err.Error(), "nasConfig") {
		t.Errorf("Suggest without a nasConfig: %v, want an error naming nasConfig", err)
	}
	if _, err := s.Suggest(context.Background(), suggest.Request{NAS: nas, N: 0}); err == nil {
		t.Error("Suggest with N = 0: no error")
	}
}

// Settings are checked as Katib's service checks them, and names it does
// not know are refused (Katib would pass them on).
func TestNewChecksSettings(t *testing.T) {
	ok := map[string]string{
		"num_epochs": "1", "w_lr": "0", "w_lr_min": "0.01", "w_momentum": "0.9", "w_weight_decay": "0",
		"w_grad_clip": "5", "alpha_lr": "3e-4", "alpha_weight_decay": "0", "batch_size": "1",
		"num_workers": "0", "init_channels": "1", "print_step": "1", "num_nodes": "1", "stem_multiplier": "1",
	}
	if _, err := darts.New(ok); err != nil {
		t.Errorf("New(%v): %v", ok, err)
	}
	for name, bad := range map[string]string{
		"num_epochs": "0", "w_lr": "-0.1", "w_lr_min": "x", "w_momentum": "-1", "w_weight_decay": "-1",
		"w_grad_clip": "-5", "alpha_lr": "-1", "alpha_weight_decay": "NaN", "batch_size": "0",
		"num_workers": "-1", "init_channels": "0", "print_step": "0", "num_nodes": "0", "stem_multiplier": "0",
		"num_epoch": "10",
	} {
		_, err := darts.New(map[string]string{name: bad})
		var se *suggest.SettingError
		if !errors.As(err, &se) || se.Name != name {
			t.Errorf("New(%s=%q) = %v, want a SettingError for %s", name, bad, err, name)
		}
	}
}
