package app

import (
	"fmt"
	"testing"
	"time"
)

// A flood of failures under made-up keys costs bounded memory, and the keys still locked are
// the last to go.
func TestLockoutMemoryIsBounded(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	cfg := DefaultConfig()
	l := newLockout(cfg, func() time.Time { return now })
	l.maxKeys = 100
	for range cfg.LockoutThreshold {
		l.fail("account:victim@example.org")
	}
	for i := range 1000 {
		now = now.Add(time.Second)
		l.fail(fmt.Sprintf("account:%d@example.org", i))
	}
	if n := len(l.keys); n > l.maxKeys {
		t.Fatalf("%d keys kept, want at most %d", n, l.maxKeys)
	}
	// the victim's lock ran out long ago (1s), so it may have been swept; a fresh lock survives a sweep
	for range cfg.LockoutThreshold {
		l.fail("address:198.51.100.1")
	}
	for i := range 150 {
		l.fail(fmt.Sprintf("account:more-%d@example.org", i))
	}
	if l.wait("address:198.51.100.1") == 0 {
		t.Fatal("a live lock was swept")
	}
}
