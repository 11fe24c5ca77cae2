package ratelimit

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/pflag"

	"github.com/socplatform/soc/cmd/soc/internal/envflag"
)

func parse(t *testing.T, args ...string) Config {
	t.Helper()
	var c Config
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	c.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return c
}

// open is c.Open, its limiter closed when the test ends.
func open(t *testing.T, c Config) Limiter {
	t.Helper()
	l, closeFn, err := c.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeFn() })
	return l
}

func isMemory(l Limiter) bool { _, ok := l.(*Memory); return ok }

func TestConfigDefaults(t *testing.T) {
	c := parse(t)
	if c != DefaultConfig() || c.RequestsPerMinute != 100 || c.FailMode != FailOpen || c.RedisURL != "" {
		t.Fatalf("defaults %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if !c.Enabled() || c.Limit() != (Limit{Requests: 100, Per: time.Minute}) {
		t.Fatalf("enabled %v, limit %+v", c.Enabled(), c.Limit())
	}
	if l := open(t, c); !isMemory(l) {
		t.Fatalf("without --redis-url: %T, want *Memory", l)
	}
	if off := parse(t, "--rate-limit=0"); off.Enabled() || off.Validate() != nil {
		t.Fatalf("--rate-limit=0: enabled %v, %v", off.Enabled(), off.Validate())
	}
}

func TestConfigRedis(t *testing.T) {
	c := parse(t, "--redis-url=redis://:hunter2@127.0.0.1:6379/0", "--rate-limit-fail=closed")
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.FailMode != FailClosed {
		t.Fatalf("fail mode %q, want closed", c.FailMode)
	}
	if l, ok := open(t, c).(*Redis); !ok {
		t.Fatalf("with --redis-url: %T, want *Redis", l)
	}
	opts := open(t, c).(*Redis).rdb.(*redis.Client).Options()
	if opts.DialTimeout != RedisTimeout || opts.ReadTimeout != RedisTimeout || opts.WriteTimeout != RedisTimeout ||
		opts.MaxRetries != 0 || opts.DialerRetries != 1 { // Options() is normalised: 0 retries is none
		t.Fatalf("timeouts %s/%s/%s, retries %d, dials %d: want %s each, no retry, one dial",
			opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout, opts.MaxRetries, opts.DialerRetries, RedisTimeout)
	}
	// The URL's own settings win.
	c.RedisURL = "redis://127.0.0.1:6379/0?dial_timeout=3s&max_retries=2"
	if opts := open(t, c).(*Redis).rdb.(*redis.Client).Options(); opts.DialTimeout != 3*time.Second || opts.MaxRetries != 2 || opts.ReadTimeout != RedisTimeout {
		t.Fatalf("URL settings: dial %s, retries %d, read %s", opts.DialTimeout, opts.MaxRetries, opts.ReadTimeout)
	}
}

func TestConfigValidate(t *testing.T) {
	c := parse(t, "--rate-limit=-1", "--redis-url=http://:hunter2@x", "--rate-limit-fail=maybe")
	err := c.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"--rate-limit/", "--redis-url/", "--rate-limit-fail/", "maybe"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %q shows the Redis password", err)
	}
}

// The Redis URL is a secret: envflag reads it from SOC_REDIS_URL_FILE too, and --help never
// shows it.
func TestConfigRedisURLIsSecret(t *testing.T) {
	var c Config
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	c.RegisterFlags(fs)
	f := fs.Lookup("redis-url")
	s, ok := f.Value.(interface{ IsSecret() bool })
	if !ok || !s.IsSecret() {
		t.Fatal("--redis-url is not a secret flag")
	}
	_ = f.Value.Set("redis://:hunter2@h:1")
	if f.Value.String() != "" {
		t.Fatalf("String() shows %q", f.Value.String())
	}
}

// Through envflag, as `soc` binds its components: SOC_RATE_LIMIT, SOC_RATE_LIMIT_FAIL, and the
// Redis URL from a mounted secret file (SOC_REDIS_URL_FILE).
func TestConfigFromEnvironment(t *testing.T) {
	file := filepath.Join(t.TempDir(), "redis-url")
	if err := os.WriteFile(file, []byte("redis://:hunter2@127.0.0.1:6379/0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOC_RATE_LIMIT", "250")
	t.Setenv("SOC_RATE_LIMIT_FAIL", "closed")
	t.Setenv("SOC_REDIS_URL_FILE", file)
	var c Config
	fs := pflag.NewFlagSet("gateway", pflag.ContinueOnError)
	if err := envflag.Bind(fs, c.RegisterFlags, nil); err != nil {
		t.Fatal(err)
	}
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if c.RequestsPerMinute != 250 || c.FailMode != FailClosed || !strings.HasPrefix(c.RedisURL, "redis://:hunter2@127.0.0.1:6379/0") {
		t.Fatalf("from the environment: %d/min, fail %s, Redis URL set %v", c.RequestsPerMinute, c.FailMode, c.RedisURL != "")
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}
