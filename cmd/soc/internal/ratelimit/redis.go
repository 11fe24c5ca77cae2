package ratelimit

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// gcraScript is GCRA in one atomic step on the Redis server. It reads the server's clock
// (TIME), so that gateways whose clocks disagree still share one consistent budget; Redis 5+
// replicates a script's effects, not the script, so a non-deterministic TIME before a write is
// allowed. Times are microseconds (a Lua number holds them exactly).
//
// KEYS[1] the key; ARGV[1] emission interval µs; ARGV[2] burst.
// Returns {allowed 0|1, remaining, reset_after µs, retry_after µs}.
var gcraScript = redis.NewScript(`
local iv = tonumber(ARGV[1])
local window = iv * tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local new_tat = tat + iv
local wait = new_tat - now - window
if wait > 0 then
  return {0, 0, tat - now, wait}
end
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil((new_tat - now) / 1000))
return {1, math.floor((window - (new_tat - now)) / iv), new_tat - now, 0}
`)

// Redis is a Limiter whose state lives in Redis, so that every gateway sharing the server
// enforces one budget per client. Keys expire on their own once their budget is whole again.
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
	iv := l.interval().Microseconds()
	res, err := gcraScript.Run(ctx, r.rdb, []string{r.prefix + key}, iv, l.burst()).Int64Slice()
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
