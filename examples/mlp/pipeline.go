package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// The pipeline modes split the program into the steps of a training
// pipeline (examples/pipeline): --export-split writes a train/test split of
// the data set, training with --save-model writes the trained network, and
// --evaluate scores a saved network on a data file.

// modelFile is a trained network as --save-model writes it.
type modelFile struct {
	Sizes      []int       `json:"sizes"`
	Activation activation  `json:"activation"`
	W          [][]float64 `json:"w"`
	B          [][]float64 `json:"b"`
	Scaler     scaler      `json:"scaler"`
}

// exportSplit writes dir/train.csv and dir/test.csv, holding out
// validationFraction of each class of the data set for testing, and, when
// countOut is not empty, the number of test rows to countOut.
func exportSplit(cfg config, dir, countOut string, stdout io.Writer) error {
	all, err := loadData(cfg.data)
	if err != nil {
		return err
	}
	train, test := split(all)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("export split: %w", err)
	}
	for name, d := range map[string]*dataset{"train.csv": train, "test.csv": test} {
		if err := writeCSV(filepath.Join(dir, name), d); err != nil {
			return err
		}
	}
	if countOut != "" {
		if err := writeFile(countOut, strconv.Itoa(len(test.X))); err != nil {
			return err
		}
	}
	_, err = fmt.Fprintf(stdout, "train-rows=%d test-rows=%d\n", len(train.X), len(test.X))
	return err
}

// writeCSV writes d as rows of features followed by the label.
func writeCSV(path string, d *dataset) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("export split: %w", err)
	}
	w := csv.NewWriter(f)
	for i, x := range d.X {
		rec := make([]string, 0, len(x)+1)
		for _, v := range x {
			rec = append(rec, strconv.FormatFloat(v, 'g', -1, 64))
		}
		if err := w.Write(append(rec, strconv.Itoa(d.Y[i]))); err != nil {
			f.Close()
			return fmt.Errorf("export split: %s: %w", path, err)
		}
	}
	w.Flush()
	if err := errors.Join(w.Error(), f.Close()); err != nil {
		return fmt.Errorf("export split: %s: %w", path, err)
	}
	return nil
}

// saveModel writes m and the scaler its inputs need to path as JSON.
func saveModel(path string, m *mlp, s scaler) error {
	data, err := json.Marshal(modelFile{Sizes: m.sizes, Activation: m.act, W: m.w, B: m.b, Scaler: s})
	if err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	return writeFile(path, string(data))
}

// loadModel reads a network written by saveModel.
func loadModel(path string) (*mlp, scaler, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, scaler{}, fmt.Errorf("load model: %w", err)
	}
	var f modelFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, scaler{}, fmt.Errorf("load model %s: %w", path, err)
	}
	if len(f.Sizes) < 2 || len(f.W) != len(f.Sizes)-1 || len(f.B) != len(f.W) || len(f.Scaler.Mean) != f.Sizes[0] || len(f.Scaler.Std) != f.Sizes[0] {
		return nil, scaler{}, fmt.Errorf("load model %s: inconsistent layer sizes", path)
	}
	m := newMLP(f.Sizes, f.Activation, nil)
	for l := range m.w {
		if len(f.W[l]) != len(m.w[l]) || len(f.B[l]) != len(m.b[l]) {
			return nil, scaler{}, fmt.Errorf("load model %s: layer %d has the wrong shape", path, l+1)
		}
		copy(m.w[l], f.W[l])
		copy(m.b[l], f.B[l])
	}
	return m, f.Scaler, nil
}

// evaluateModel scores the network saved at cfg.evaluate on every row of
// the data set, prints test-loss and test-accuracy, and writes them to
// cfg.metricsJSON as Kubeflow Pipelines v1's metrics file and to
// cfg.metricsV2 as a v2 Metrics artifact, when set. With cfg.expectRows > 0
// a data set of another size is an error.
func evaluateModel(cfg config, stdout io.Writer) error {
	expectRows := cfg.expectRows
	m, s, err := loadModel(cfg.evaluate)
	if err != nil {
		return err
	}
	d, err := loadData(cfg.data)
	if err != nil {
		return err
	}
	if expectRows > 0 && len(d.X) != expectRows {
		return fmt.Errorf("evaluate: the data set has %d rows, want %d", len(d.X), expectRows)
	}
	if d.features() != m.sizes[0] {
		return fmt.Errorf("evaluate: the data set has %d features, the model %d", d.features(), m.sizes[0])
	}
	s.apply(d)
	loss, acc := m.evaluate(d)
	if _, err := fmt.Fprintf(stdout, "test-loss=%.6g test-accuracy=%.4f\n", loss, acc); err != nil {
		return fmt.Errorf("write metrics: %w", err)
	}
	if cfg.metricsJSON != "" {
		doc := map[string]any{"metrics": []map[string]any{
			{"name": "test-accuracy", "numberValue": acc, "format": "PERCENTAGE"},
			{"name": "test-loss", "numberValue": loss, "format": "RAW"},
		}}
		if err := writeJSON(cfg.metricsJSON, doc); err != nil {
			return err
		}
	}
	if cfg.metricsV2 != "" {
		if err := writeJSON(cfg.metricsV2, map[string]float64{"test-accuracy": acc, "test-loss": loss}); err != nil {
			return err
		}
	}
	return nil
}

// writeJSON writes v to path as JSON.
func writeJSON(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("write metrics: %w", err)
	}
	return writeFile(path, string(data))
}

// writeFile writes data to path, creating its directory.
func writeFile(path, data string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
