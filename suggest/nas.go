package suggest

// NASConfig is an experiment's neural-architecture-search space (Katib's
// spec.nasConfig), for the algorithms that search it (enas, darts).
type NASConfig struct {
	// NumLayers, InputSizes and OutputSizes are graphConfig's.
	NumLayers   int
	InputSizes  []int
	OutputSizes []int
	// Operations are the candidate operations, in the order the
	// experiment lists them.
	Operations []NASOperation
}

// NASOperation is one candidate operation of a [NASConfig]: its
// operationType and the space of its parameters (such as filter_size,
// num_filter, stride), in order.
type NASOperation struct {
	Type       string
	Parameters Space
}
