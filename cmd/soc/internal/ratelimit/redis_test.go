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
// budget per client: the 101 requests across both give exactly one refusal, the last.
func TestRedisLimitersShareOneBudget(t *testing.T) {
	prefix := testPrefix(t)
	a, b := NewRedis(redisClient(t), prefix), NewRedis(redisClient(t), prefix)
	lim := Limit{Requests: 100, Per: time.Hour}
	for i := range 101 {
		l := a
		if i%2 == 1 {
			l = b
		}
		if d := allow(t, l, "client", lim); d.Allowed != (i < 100) {
			t.Fatalf("request %d of 101 across two limiters: %+v, want only the last refused", i+1, d)
		} else if !d.Allowed && (d.RetryAfter <= 0 || d.RetryAfter > time.Hour) {
			t.Fatalf("request 101: retry after %s, want within the hour", d.RetryAfter)
		}
	}
}

// Time passes on the server's clock: a short window, waiting on the limiter's own answers
// (bounded), never on a sleep of a guessed length. Redis's answers come later than a still
// clock's by the time the requests take, up to a window.
func TestRedisPaced(t *testing.T) {
	redisClient(t)
	testPaced(t, func(t *testing.T) pacedBackend {
		return pacedBackend{limiter: NewRedis(redisClient(t), testPrefix(t)), window: 2 * time.Second,
			now: time.Now, sleep: time.Sleep, slack: 2 * time.Second}
	})
}

// The script is loaded on first use (EVALSHA fails with NOSCRIPT, EVAL follows) and again after
// the server forgets it.
func TestRedisReloadsFlushedScript(t *testing.T) {
	rdb := redisClient(t)
	l := NewRedis(rdb, testPrefix(t))
	allow(t, l, "k", Limit{Requests: 2, Per: time.Hour})
	if err := rdb.ScriptFlush(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	if d := allow(t, l, "k", Limit{Requests: 2, Per: time.Hour}); !d.Allowed || d.Remaining != 0 {
		t.Fatalf("after SCRIPT FLUSH: %+v, want allowed (state kept), 0 remaining", d)
	}
}

// Keys expire once their newest request has left the window, so Redis holds only active
// clients; a rejected request does not extend it.
func TestRedisKeysExpire(t *testing.T) {
	rdb := redisClient(t)
	prefix := testPrefix(t)
	l := NewRedis(rdb, prefix)
	allow(t, l, "k", Limit{Requests: 1, Per: time.Hour})
	ttl, err := rdb.PTTL(context.Background(), prefix+"k").Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= 59*time.Minute || ttl > time.Hour {
		t.Fatalf("key TTL %s, want just under an hour", ttl)
	}
	if d := allow(t, l, "k", Limit{Requests: 1, Per: time.Hour}); d.Allowed {
		t.Fatalf("second request: %+v, want rejected", d)
	}
	if n, err := rdb.ZCard(context.Background(), prefix+"k").Result(); err != nil || n != 1 {
		t.Fatalf("%d requests logged (%v) after one allowed and one rejected, want 1", n, err)
	}
}

// A request is logged at the server's time to the microsecond, the unit the window is sent in:
// between TIME before and after.
func TestRedisLogsTheServerTimeExactly(t *testing.T) {
	ctx := context.Background()
	rdb := redisClient(t)
	prefix := testPrefix(t)
	l := NewRedis(rdb, prefix)
	for range 20 {
		before, err := rdb.Time(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		allow(t, l, "k", Limit{Requests: 100, Per: time.Hour})
		after, err := rdb.Time(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		newest, err := rdb.ZRangeWithScores(ctx, prefix+"k", -1, -1).Result()
		if err != nil || len(newest) != 1 {
			t.Fatalf("newest entry %v (%v)", newest, err)
		}
		if at := int64(newest[0].Score); at < before.UnixMicro() || at > after.UnixMicro() {
			t.Fatalf("logged at %dµs, want between the server's %dµs and %dµs", at, before.UnixMicro(), after.UnixMicro())
		}
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
