package ratelimit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/redis/go-redis/v9"
)

// slidingLogScript is the sliding-window log in one atomic step on the Redis server: the key
// is a sorted set of the allowed requests, scored by their time. It reads the server's clock
// (TIME), not the gateways': they may disagree, and a log written by several clocks would let
// a client through early (or late) depending on which gateway it reached; one clock keeps one
// consistent budget. Redis 5+ replicates a script's effects, not the script, so a
// non-deterministic TIME before a write is allowed. Times are microseconds: a Lua number, a
// command argument made of it and a sorted-set score hold them exactly; only Lua's own printing
// (tostring, ..) keeps 14 digits, so the member's time is formatted with %d.
//
// KEYS[1] the key; ARGV[1] window µs; ARGV[2] requests per window; ARGV[3] a random number
// that, with the time, names the member: a member named by the time alone would be overwritten,
// not added, by a request in the same microsecond (a fast server, or its clock stepped back),
// and the log would count one request too few.
// Returns {allowed 0|1, remaining, reset_after µs, retry_after µs}.
var slidingLogScript = redis.NewScript(`
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local kept = redis.call('ZCARD', KEYS[1])
if kept >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], kept - limit, kept - limit, 'WITHSCORES')
  local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  return {0, 0, tonumber(newest[2]) + window - now, tonumber(oldest[2]) + window - now}
end
redis.call('ZADD', KEYS[1], now, string.format('%d', now) .. ':' .. ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
return {1, limit - kept - 1, window, 0}
`)

// Redis is a Limiter whose state lives in Redis, so that every gateway sharing the server
// enforces one budget per client. Keys expire on their own once their newest request has left
// the window.
type Redis struct {
	rdb    redis.Scripter // a *redis.Client, cluster or ring client: all run scripts
	prefix string
}

// NewRedis returns a limiter storing its keys, each prefixed with prefix (e.g. "soc:rl:"), in
// rdb. The caller owns rdb (and closes it).
func NewRedis(rdb redis.Scripter, prefix string) *Redis { return &Redis{rdb: rdb, prefix: prefix} }

// Allow implements Limiter. The script is sent by its SHA (EVALSHA) and in full only when the
// server does not know it yet (after a restart or SCRIPT FLUSH).
func (r *Redis) Allow(ctx context.Context, key string, l Limit) (Decision, error) {
	if err := l.validate(); err != nil {
		return Decision{}, err
	}
	res, err := slidingLogScript.Run(ctx, r.rdb, []string{r.prefix + key},
		l.Per.Microseconds(), l.Requests, rand.Uint64()).Int64Slice()
	if err != nil {
		return Decision{}, fmt.Errorf("ratelimit: redis: %w", err)
	}
	if len(res) != 4 {
		return Decision{}, fmt.Errorf("ratelimit: redis: script returned %d values, want 4", len(res))
	}
	return Decision{
		Allowed:    res[0] == 1,
		Remaining:  int(res[1]),
		ResetAfter: time.Duration(res[2]) * time.Microsecond,
		RetryAfter: time.Duration(res[3]) * time.Microsecond,
	}, nil
}
