// Package sagastest is what the tests of the saga runtime and of the platform's sagas share.
package sagastest

import (
	"context"
	"sync"
	"testing"

	"github.com/socplatform/soc/sagas"
)

// FireConcurrently fires the due timers of every service at once, as replicas following one
// store race to, and returns how many timers each fired. A firing error fails tb.
func FireConcurrently(ctx context.Context, tb testing.TB, services ...*sagas.TimerService) []int {
	tb.Helper()
	fired := make([]int, len(services))
	var wg sync.WaitGroup
	for i, s := range services {
		wg.Go(func() {
			n, err := s.FireDue(ctx)
			if err != nil {
				tb.Error(err)
			}
			fired[i] = n
		})
	}
	wg.Wait()
	return fired
}
