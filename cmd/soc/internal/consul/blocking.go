package consul

import (
	"context"
	"log/slog"
	"time"
)

// Blocking-query pacing. waitTime is how long Consul holds a query open when nothing changes
// (its default is 5m; shorter keeps a half-dead connection from hiding changes for long).
// minQueryInterval spaces consecutive queries, so a misbehaving index (one that goes backwards,
// restarting the query at 0 each time) costs at most ten queries a second, never a tight loop.
// Errors back off exponentially from errBackoffMin to errBackoffMax.
var (
	waitTime         = 30 * time.Second
	minQueryInterval = 100 * time.Millisecond
	errBackoffMin    = 250 * time.Millisecond
	errBackoffMax    = 15 * time.Second
)

// follow runs a blocking query until ctx ends: query waits (up to waitTime) for a change past
// index and returns the new index. It follows Consul's rules for blocking queries: an index lower
// than the last one (a snapshot restore, a new leader with a different history) restarts from 0,
// and a 0 index is never waited on as if it were a real one.
func follow(ctx context.Context, log *slog.Logger, what string, query func(ctx context.Context, index uint64) (uint64, error)) {
	var index uint64
	backoff := errBackoffMin
	failing := false
	for {
		started := time.Now()
		next, err := query(ctx, index)
		if ctx.Err() != nil {
			return
		}
		wait := minQueryInterval - time.Since(started)
		if err != nil {
			// Logged once per outage, not once per retry.
			if !failing {
				log.Warn("consul query failing; retrying with backoff", "query", what, "err", err)
				failing = true
			}
			wait, backoff = backoff, min(backoff*2, errBackoffMax)
			index = 0
		} else {
			if failing {
				log.Info("consul query recovered", "query", what)
				failing = false
			}
			backoff = errBackoffMin
			switch {
			case next < index:
				index = 0
			case next == 0:
				index = 1
			default:
				index = next
			}
		}
		if wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
	}
}
