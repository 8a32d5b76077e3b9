package collect

import "context"

// pushCollector is a trial's registration with the Push endpoint: the trial
// sends its reports there while it runs, and its token stops working when
// it ends (the call unregisters it).
type pushCollector func()

func (done pushCollector) Collect(ctx context.Context) {
	<-ctx.Done()
	done()
}
