package cli

import (
	"context"

	"github.com/tune-hpo/tune/experiment/results"
	"github.com/tune-hpo/tune/internal/plot"
)

// SetImportanceShares makes f the importance computation of tune plot
// --kind importance until restore is called.
func SetImportanceShares(f func(ctx context.Context, t *results.Table) (string, []plot.Share, error)) (restore func()) {
	old := importanceShares
	importanceShares = f
	return func() { importanceShares = old }
}
