package ratelimit

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/socplatform/soc/cmd/soc/internal/envflag"
)

// Fail modes: what a request gets while the limiter's backend (Redis) is unreachable.
const (
	FailOpen   = "open"
	FailClosed = "closed"
)

// RedisTimeout bounds a check on Redis (dial, write, read) unless the URL says otherwise: a
// round trip on a healthy Redis takes well under a millisecond.
const RedisTimeout = 250 * time.Millisecond

// Config is the rate limiter's configuration (flags and SOC_* variables through envflag).
type Config struct {
	// RequestsPerMinute per client; 0 turns limiting off.
	RequestsPerMinute int
	// RedisURL, when set, keeps the budgets in Redis, shared by every gateway using it. It may
	// hold a password: it is a secret flag (SOC_REDIS_URL or SOC_REDIS_URL_FILE).
	RedisURL string
	FailMode string
	// ClassLimits and RoleLimits are "name=n,…" (see ParseLimits and Policy): kept as text so a
	// Config stays comparable; Policy parses them.
	ClassLimits string
	RoleLimits  string
}

// DefaultConfig is the mission's 100 requests per minute, in memory, failing open.
func DefaultConfig() Config { return Config{RequestsPerMinute: 100, FailMode: FailOpen} }

// RegisterFlags binds the configuration to fs (envflag maps each to SOC_<NAME>).
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	d := DefaultConfig()
	c.RedisURL = d.RedisURL // a flag.Value, unlike IntVar and StringVar, does not set its default
	fs.IntVar(&c.RequestsPerMinute, "rate-limit", d.RequestsPerMinute, "requests per minute per client (token or source address); 0 turns rate limiting off")
	fs.Var(envflag.Secret(&c.RedisURL), "redis-url", "Redis URL (redis://[:password@]host:port/db) to share rate limits between instances; empty keeps them in memory")
	fs.StringVar(&c.ClassLimits, "rate-limit-classes", "", "requests per minute per client for route classes with a budget of their own, e.g. import=600,admin=1200 (0 = unlimited)")
	fs.StringVar(&c.RoleLimits, "rate-limit-roles", "", "requests per minute per client holding a role, on its default budget (the highest applicable wins), e.g. admin=1000 (0 = unlimited)")
	fs.StringVar(&c.FailMode, "rate-limit-fail", d.FailMode, "when Redis is unreachable: open (let requests through) or closed (reject with 503)")
}

// Validate reports every invalid setting, each naming its flag. The Redis URL is never echoed:
// it may hold a password.
func (c *Config) Validate() error {
	var errs []error
	if c.RequestsPerMinute < 0 || c.RequestsPerMinute > MaxRequests {
		errs = append(errs, fmt.Errorf("--rate-limit/SOC_RATE_LIMIT: must be between 0 (off) and %d (the sliding window logs each request)", MaxRequests))
	}
	if c.RedisURL != "" {
		if _, err := redis.ParseURL(c.RedisURL); err != nil {
			errs = append(errs, errors.New("--redis-url/SOC_REDIS_URL: not a valid redis:// or rediss:// URL"))
		}
	}
	if _, err := ParseLimits(c.ClassLimits); err != nil {
		errs = append(errs, fmt.Errorf("--rate-limit-classes/SOC_RATE_LIMIT_CLASSES: %w", err))
	}
	if _, err := ParseLimits(c.RoleLimits); err != nil {
		errs = append(errs, fmt.Errorf("--rate-limit-roles/SOC_RATE_LIMIT_ROLES: %w", err))
	}
	if c.FailMode != FailOpen && c.FailMode != FailClosed {
		errs = append(errs, fmt.Errorf("--rate-limit-fail/SOC_RATE_LIMIT_FAIL: %q is neither %s nor %s", c.FailMode, FailOpen, FailClosed))
	}
	return errors.Join(errs...)
}

// Enabled reports whether requests are limited at all.
func (c *Config) Enabled() bool { return c.RequestsPerMinute > 0 }

// Limit is the configured per-client budget (call only when Enabled).
func (c *Config) Limit() Limit { return PerMinute(c.RequestsPerMinute) }

// Policy is the configured policy (call after Validate: unparsable lists are left empty).
func (c *Config) Policy() *Policy {
	classes, _ := ParseLimits(c.ClassLimits)
	roles, _ := ParseLimits(c.RoleLimits)
	return &Policy{Default: c.RequestsPerMinute, Classes: classes, Roles: roles}
}

// Open returns the configured Limiter: in Redis when RedisURL is set, else in memory; closeFn
// releases its connections. Call after Validate.
//
// Every request waits for its check, so a Redis that hangs must not hold requests for go-redis's
// default timeouts (5 s to dial, 3 s to read) and retries (3 commands with backoff, 5 dials
// each): unless the URL sets them (dial_timeout, read_timeout, write_timeout, max_retries), a
// check gives up after RedisTimeout without retrying, and the fail mode decides.
func (c *Config) Open() (l Limiter, closeFn func() error, err error) {
	if c.RedisURL == "" {
		return NewMemory(), func() error { return nil }, nil
	}
	opts, err := redis.ParseURL(c.RedisURL)
	if err != nil {
		return nil, nil, errors.New("ratelimit: --redis-url is not a valid Redis URL")
	}
	for _, d := range []*time.Duration{&opts.DialTimeout, &opts.ReadTimeout, &opts.WriteTimeout} {
		if *d == 0 {
			*d = RedisTimeout
		}
	}
	if opts.MaxRetries == 0 {
		opts.MaxRetries = -1 // go-redis: 0 is its default (3), -1 none
	}
	opts.DialerRetries = 1 // one dial per attempt, not go-redis's 5 (100 ms apart)
	quietClientLog.Do(func() { redis.SetLogger(discard{}) })
	rdb := redis.NewClient(opts)
	return NewRedis(rdb, "soc:rl:"), rdb.Close, nil
}

// go-redis logs every failed dial through one process-wide logger: during an outage that is a
// line per request, where Middleware logs one per outage. The rate limiter is the process's only
// go-redis user, so its client log is switched off the first time a Redis limiter is opened.
var quietClientLog sync.Once

type discard struct{}

func (discard) Printf(context.Context, string, ...any) {}
