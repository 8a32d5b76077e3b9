package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
)

// digitsGz is the UCI "Optical Recognition of Handwritten Digits" test set
// (1,797 rows of 64 pixel counts and a class label 0-9), gzip-compressed.
// See data/README.md for its source and licence.
//
//go:embed data/digits.csv.gz
var digitsGz []byte

// splitSeed seeds the train/validation split. It is a constant, not a flag,
// so that every trial of an experiment is scored on the same rows.
const splitSeed = 20240601

// validationFraction is the share of each class held out for validation.
const validationFraction = 0.2

// dataset is a labelled table: X[i] holds the features of row i and Y[i]
// its class, an integer in [0, classes).
type dataset struct {
	X       [][]float64
	Y       []int
	classes int
}

// features returns the number of feature columns.
func (d *dataset) features() int {
	if len(d.X) == 0 {
		return 0
	}
	return len(d.X[0])
}

// loadData reads the data set named by path, or the embedded digits data set
// when path is empty. Files whose name ends in ".gz" are decompressed.
func loadData(path string) (*dataset, error) {
	if path == "" {
		d, err := parseGzipCSV(bytes.NewReader(digitsGz))
		if err != nil {
			return nil, fmt.Errorf("embedded digits data: %w", err)
		}
		return d, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open data: %w", err)
	}
	defer f.Close()
	var d *dataset
	if strings.HasSuffix(path, ".gz") {
		d, err = parseGzipCSV(f)
	} else {
		d, err = parseCSV(f)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// parseGzipCSV decompresses r and parses it with parseCSV.
func parseGzipCSV(r io.Reader) (*dataset, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("gunzip: %w", err)
	}
	defer zr.Close()
	return parseCSV(zr)
}

// parseCSV reads rows of numeric features followed by an integer class label
// in the last column. A first line that is not such a row (a header, or
// scikit-learn's "rows,features,names..." line) is skipped. Labels must lie
// in [0, 1000); the number of classes is the largest label plus one.
func parseCSV(r io.Reader) (*dataset, error) {
	cr := csv.NewReader(bufio.NewReader(r))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	records, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read csv: %w", err)
	}
	if len(records) < 2 {
		return nil, errors.New("need at least two rows")
	}
	width := len(records[1])
	if width < 2 {
		return nil, errors.New("need at least one feature column and a label column")
	}
	if _, _, err := parseRow(records[0], width); err != nil {
		records = records[1:] // header
	}
	d := &dataset{X: make([][]float64, 0, len(records)), Y: make([]int, 0, len(records))}
	for i, rec := range records {
		x, y, err := parseRow(rec, width)
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", i+1, err)
		}
		d.X = append(d.X, x)
		d.Y = append(d.Y, y)
		d.classes = max(d.classes, y+1)
	}
	if d.classes < 2 {
		return nil, errors.New("need at least two classes")
	}
	return d, nil
}

// parseRow parses one record of width fields: features, then a label.
func parseRow(rec []string, width int) ([]float64, int, error) {
	if len(rec) != width {
		return nil, 0, fmt.Errorf("got %d fields, want %d", len(rec), width)
	}
	x := make([]float64, width-1)
	for j, s := range rec[:width-1] {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, 0, fmt.Errorf("feature %d: %w", j+1, err)
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, 0, fmt.Errorf("feature %d: not finite: %q", j+1, s)
		}
		x[j] = v
	}
	y, err := strconv.Atoi(rec[width-1])
	if err != nil {
		return nil, 0, fmt.Errorf("label: %w", err)
	}
	if y < 0 || y >= 1000 {
		return nil, 0, fmt.Errorf("label %d out of range [0, 1000)", y)
	}
	return x, y, nil
}

// split divides d into training and validation sets, holding out
// validationFraction of each class. The split depends only on splitSeed and
// the row order of d.
func split(d *dataset) (train, val *dataset) {
	rng := rand.New(rand.NewPCG(splitSeed, splitSeed))
	byClass := make([][]int, d.classes)
	for i, y := range d.Y {
		byClass[y] = append(byClass[y], i)
	}
	train = &dataset{classes: d.classes}
	val = &dataset{classes: d.classes}
	for _, idx := range byClass {
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		nVal := int(math.Round(validationFraction * float64(len(idx))))
		for k, i := range idx {
			dst := train
			if k < nVal {
				dst = val
			}
			dst.X = append(dst.X, d.X[i])
			dst.Y = append(dst.Y, d.Y[i])
		}
	}
	return train, val
}

// scaler standardises features with fixed statistics: (x - mean) / std.
type scaler struct {
	Mean []float64 `json:"mean"`
	Std  []float64 `json:"std"`
}

// fitScaler returns the per-feature mean and standard deviation of d; a
// constant feature gets std 1, so it is centred and left unscaled.
func fitScaler(d *dataset) scaler {
	n := d.features()
	s := scaler{Mean: make([]float64, n), Std: make([]float64, n)}
	for _, x := range d.X {
		for j, v := range x {
			s.Mean[j] += v
		}
	}
	for j := range s.Mean {
		s.Mean[j] /= float64(len(d.X))
	}
	for _, x := range d.X {
		for j, v := range x {
			s.Std[j] += (v - s.Mean[j]) * (v - s.Mean[j])
		}
	}
	for j := range s.Std {
		s.Std[j] = math.Sqrt(s.Std[j] / float64(len(d.X)))
		if s.Std[j] < 1e-12 {
			s.Std[j] = 1
		}
	}
	return s
}

// apply rescales the rows of d in place (each row is replaced by a copy,
// so slices shared with another dataset are not modified).
func (s scaler) apply(d *dataset) {
	for i, x := range d.X {
		z := make([]float64, len(x))
		for j, v := range x {
			z[j] = (v - s.Mean[j]) / s.Std[j]
		}
		d.X[i] = z
	}
}

// standardize rescales every feature of train and val to zero mean and unit
// variance, using statistics of train only, and returns those statistics.
// Constant features are centred and left unscaled. Rows are copied, so the
// input slices are not modified.
func standardize(train, val *dataset) scaler {
	s := fitScaler(train)
	s.apply(train)
	s.apply(val)
	return s
}
