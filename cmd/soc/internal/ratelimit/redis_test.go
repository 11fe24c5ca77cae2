package ratelimit

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/socplatform/soc/events/eventstest"
)

// redisClient connects to the test server (SOC_TEST_REDIS_URL; skipped without it, failed
// under SOC_REQUIRE_SERVERS=1) with a client of its own, closed when the test ends.
func redisClient(t testing.TB) *redis.Client {
	t.Helper()
	url := eventstest.ServerEnv(t, "SOC_TEST_REDIS_URL", "run deploy/dev/redis.sh up and export SOC_TEST_REDIS_URL=$(deploy/dev/redis.sh url)")
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("SOC_TEST_REDIS_URL: %v", err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// testPrefix keeps one test's keys apart from every other run's on the shared server.
func testPrefix(t *testing.T) string { return "soc-test:rl:" + randomHex(t) + ":" }

func TestRedisContract(t *testing.T) {
	redisClient(t) // skip or fail up front, not once per sub-test
	testContract(t, func(t *testing.T) Limiter { return NewRedis(redisClient(t), testPrefix(t)) })
}

// The point of Redis: two limiters (two gateways), each with its own connection, draw on one
// budget per client.
func TestRedisLimitersShareOneBudget(t *testing.T) {
	prefix := testPrefix(t)
	a, b := NewRedis(redisClient(t), prefix), NewRedis(redisClient(t), prefix)
	lim := Limit{Requests: 1, Per: time.Hour, Burst: 6}
	allowed := 0
	for i := range 10 {
		l := a
		if i%2 == 1 {
			l = b
		}
		if allow(t, l, "client", lim).Allowed {
			allowed++
		}
	}
	if allowed != 6 {
		t.Fatalf("%d of 10 requests across two limiters allowed, want the one burst of 6", allowed)
	}
}

// Refill on the server's clock: a short window, waiting on the limiter's own answer (bounded),
// never on a sleep of a guessed length.
func TestRedisRefills(t *testing.T) {
	l := NewRedis(redisClient(t), testPrefix(t))
	lim := Limit{Requests: 2, Per: 200 * time.Millisecond} // one back every 100ms
	for range 2 {
		allow(t, l, "k", lim)
	}
	d := allow(t, l, "k", lim)
	if d.Allowed || d.RetryAfter <= 0 || d.RetryAfter > 100*time.Millisecond {
		t.Fatalf("third request: %+v, want rejected with 0 < retry after <= 100ms", d)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !d.Allowed {
		if time.Now().After(deadline) {
			t.Fatalf("no request allowed again within 10s: %+v", d)
		}
		time.Sleep(d.RetryAfter)
		d = allow(t, l, "k", lim)
	}
}

// The script is loaded on first use (EVALSHA fails with NOSCRIPT, EVAL follows) and again after
// the server forgets it.
func TestRedisReloadsFlushedScript(t *testing.T) {
	rdb := redisClient(t)
	l := NewRedis(rdb, testPrefix(t))
	allow(t, l, "k", Limit{Requests: 1, Per: time.Hour, Burst: 2})
	if err := rdb.ScriptFlush(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	if d := allow(t, l, "k", Limit{Requests: 1, Per: time.Hour, Burst: 2}); !d.Allowed || d.Remaining != 0 {
		t.Fatalf("after SCRIPT FLUSH: %+v, want allowed (state kept), 0 remaining", d)
	}
}

// Keys expire once their budget is whole again, so Redis holds only active clients.
func TestRedisKeysExpire(t *testing.T) {
	rdb := redisClient(t)
	prefix := testPrefix(t)
	allow(t, NewRedis(rdb, prefix), "k", Limit{Requests: 1, Per: time.Hour})
	ttl, err := rdb.PTTL(context.Background(), prefix+"k").Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= 59*time.Minute || ttl > time.Hour {
		t.Fatalf("key TTL %s, want just under an hour", ttl)
	}
}

// closedAddr is a loopback address nothing listens on: a Redis that is down.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// downRedis is a limiter, configured as `soc` would (Config.Open), on a Redis that is not
// running (needs no test server).
func downRedis(t *testing.T) Limiter {
	t.Helper()
	c := DefaultConfig()
	c.RedisURL = "redis://" + closedAddr(t) + "/0"
	return open(t, c)
}

func TestRedisDownIsAnError(t *testing.T) {
	if _, err := downRedis(t).Allow(context.Background(), "k", PerMinute(100)); err == nil {
		t.Fatal("Allow on a stopped Redis: no error")
	}
}
