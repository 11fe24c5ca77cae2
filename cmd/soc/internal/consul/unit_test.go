package consul

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestFollowResetsABackwardsIndexAndBacksOffOnErrors(t *testing.T) {
	// Consul's answers, in order; the query records the index each call waited on.
	type answer struct {
		index uint64
		err   error
	}
	answers := []answer{{10, nil}, {12, nil}, {7, nil}, {0, nil}, {0, errors.New("down")}, {20, nil}}
	var asked []uint64
	var gaps []time.Duration
	last := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	follow(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), "test", func(_ context.Context, index uint64) (uint64, error) {
		gaps = append(gaps, time.Since(last))
		last = time.Now()
		if len(asked) == len(answers) {
			cancel()
			return 0, ctx.Err()
		}
		a := answers[len(asked)]
		asked = append(asked, index)
		return a.index, a.err
	})
	// 0 first; 10 and 12 followed; 7 < 12 restarts at 0; a 0 index becomes 1; an error restarts at 0.
	if want := []uint64{0, 10, 12, 0, 1, 0}; !slices.Equal(asked, want) {
		t.Fatalf("waited on indexes %v, want %v", asked, want)
	}
	// Never a tight loop, even on answers that return at once (half the interval: the gaps are
	// measured inside the query, a little after follow's own clock starts).
	for i, g := range gaps[1:] {
		if g < minQueryInterval/2 {
			t.Fatalf("query %d came %v after the previous one (minimum %v)", i+1, g, minQueryInterval)
		}
	}
}

func TestDecodeConfig(t *testing.T) {
	for _, tc := range []struct{ in, err string }{
		{`{"log_level":"debug","rate_limit":5}`, ""},
		{``, ""},
		{`{`, "not a JSON object"},
		{`[1]`, "not a JSON object"},
		{`null`, "not a JSON object"},
		{`{"x":"` + strings.Repeat("a", MaxConfigBytes) + `"}`, "exceeds"},
	} {
		_, err := decodeConfig([]byte(tc.in))
		if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("decodeConfig(%.20q) = %v, want error containing %q", tc.in, err, tc.err)
		}
	}
}

func TestConfigValidateNamesEveryFlag(t *testing.T) {
	c := Config{Addr: "ftp://x", CheckInterval: time.Millisecond, Advertise: "0.0.0.0:80"}
	err := c.Validate()
	for _, flag := range []string{"--consul-addr", "--consul-check-interval", "--consul-advertise"} {
		if err == nil || !strings.Contains(err.Error(), flag) {
			t.Errorf("Validate() = %v, want a problem naming %s", err, flag)
		}
	}
	for _, ok := range []string{"127.0.0.1:8500", "http://consul:8500", "https://consul.example:443/"} {
		c := DefaultConfig()
		c.Addr = ok
		if err := c.Validate(); err != nil {
			t.Errorf("Validate(%q) = %v", ok, err)
		}
	}
}

func TestAdvertiseAddr(t *testing.T) {
	c := DefaultConfig()
	for listen, want := range map[string]string{"[::]:8080": "127.0.0.1:8080", "0.0.0.0:9": "127.0.0.1:9", ":7": "127.0.0.1:7", "10.0.0.5:80": "10.0.0.5:80"} {
		if got, err := c.AdvertiseAddr(listen); err != nil || got != want {
			t.Errorf("AdvertiseAddr(%q) = %q, %v; want %q", listen, got, err, want)
		}
	}
	c.Advertise = "node1:8080"
	if got, _ := c.AdvertiseAddr("[::]:8080"); got != "node1:8080" {
		t.Errorf("with --consul-advertise: %q", got)
	}
}
