package ratelimit

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// BenchmarkAllow measures one client's checks per second, one at a time (`make bench` prints
// them): in memory, on Redis (EVALSHA of the sliding-window log script), and the bare Redis round trips it is
// compared with, PING (the network floor) and INCR (the simplest counter a limiter could use).
func BenchmarkAllow(b *testing.B) {
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprint("bench-", i)
	}
	lim := Limit{Requests: MaxRequests, Per: time.Second} // mostly allowed, like real traffic
	ctx := context.Background()
	run := func(b *testing.B, check func(key string) error) {
		i := 0
		for b.Loop() {
			if err := check(keys[i%len(keys)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checks/s")
	}
	b.Run("memory", func(b *testing.B) {
		m := NewMemory()
		run(b, func(k string) error { _, err := m.Allow(ctx, k, lim); return err })
	})
	// Each run gets its own client (closed when the run ends), after its keys are removed.
	redisBench := func(name string, check func(rdb *redis.Client, prefix string) func(key string) error) {
		b.Run(name, func(b *testing.B) {
			rdb := redisClient(b)
			prefix := "soc-bench:rl:" + randomHex(b) + ":"
			b.Cleanup(func() { cleanupKeys(b, rdb, prefix) })
			run(b, check(rdb, prefix))
		})
	}
	redisBench("redis", func(rdb *redis.Client, prefix string) func(string) error {
		l := NewRedis(rdb, prefix)
		return func(k string) error { _, err := l.Allow(ctx, k, lim); return err }
	})
	redisBench("redis-incr", func(rdb *redis.Client, prefix string) func(string) error {
		return func(k string) error { return rdb.Incr(ctx, prefix+k).Err() }
	})
	redisBench("redis-ping", func(rdb *redis.Client, _ string) func(string) error {
		return func(string) error { return rdb.Ping(ctx).Err() }
	})
}

func cleanupKeys(tb testing.TB, rdb *redis.Client, prefix string) {
	ctx := context.Background()
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		rdb.Del(ctx, iter.Val())
	}
	if err := iter.Err(); err != nil {
		tb.Errorf("clean up %s*: %v", prefix, err)
	}
}
