package cli

import "github.com/tune-hpo/tune/store"

// trialRoot returns the directory under which st keeps its trials'
// directories: its real path with ".trials" appended, so that each store
// file has its own, whichever path reached it.
func trialRoot(st *store.Store) string { return st.RealPath() + ".trials" }
