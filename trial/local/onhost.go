package local

// OnHost implements [trial.OnHost]: trials are processes on this machine.
func (e *Executor) OnHost() {}
