package app_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/socplatform/soc/schemas/contracts"
)

type sink struct {
	mu   sync.Mutex
	used map[string]time.Time
}

func (s *sink) RecordTokensUsed(_ context.Context, used map[string]time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, t := range used {
		s.used[id] = t
	}
	return nil
}

// A started Service follows what another node appends, and flushes API tokens' last use to
// its sink (once more when it stops).
func TestStartFollowsTheStoreAndFlushesLastUse(t *testing.T) {
	f := newFixture(t)
	s := &sink{used: map[string]time.Time{}}
	f.Deps.LastUsed = s
	follower := f.Reopen(t)
	runCtx, stop := context.WithCancel(ctx)
	if err := follower.Start(runCtx); err != nil {
		t.Fatal(err)
	}
	pat := f.issueToken(t, f.admin, contracts.IssueApiToken{Name: "ci", Scopes: []contracts.PermissionV2{"imports:write"}, TTL: "1d"})
	// the follower learns of the token by following, not by the lookup's catch-up: wait for it
	for deadline := time.Now().Add(10 * time.Second); len(follower.Tokens(f.admin)) == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the follower never saw the token")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := follower.Authenticate(ctx, pat.Token); err != nil {
		t.Fatal(err)
	}
	stop()
	if err := follower.Wait(); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if got := s.used[pat.ID]; !got.Equal(f.Clock.Now()) {
		t.Fatalf("last use flushed %v, want %v", got, f.Clock.Now())
	}
}
