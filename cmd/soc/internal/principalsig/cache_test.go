package principalsig

import (
	"crypto/sha256"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/socplatform/soc/schemas/access"
)

// clock is a settable time for a signer and a verifier.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// sha256Of is the verifier's cache key of tok.
func sha256Of(tok string) [sha256.Size]byte { return sha256.Sum256([]byte(tok)) }

// clockedPair is pair with both sides on one settable clock, set to a whole second (token times
// are whole seconds).
func clockedPair(t *testing.T) (*Signer, *Verifier, *clock) {
	s, v, _ := pair(t)
	clk := &clock{t: time.Now().Truncate(time.Second)}
	s.now, v.now = clk.now, clk.now
	return s, v, clk
}

func TestSignReusesTheTokenOfAPrincipalUntilItsRefresh(t *testing.T) {
	s, v, clk := clockedPair(t)
	start := clk.now()

	first := mustSign(t, s, full())
	if again := mustSign(t, s, full()); again != first {
		t.Fatal("the same principal got a new token at once")
	}
	// Any field changed is another principal: a new token at once, verifying as the new one.
	for name, change := range map[string]func(*access.Principal){
		"role":       func(p *access.Principal) { p.Roles = append(p.Roles, "admin") },
		"team":       func(p *access.Principal) { p.Teams = p.Teams[:1] },
		"permission": func(p *access.Principal) { p.Perms = p.Perms[:1] },
		"session":    func(p *access.Principal) { p.SessionID = "sess-2" },
		"name":       func(p *access.Principal) { p.Name = "other@example.com" },
	} {
		p := full()
		change(&p)
		tok := mustSign(t, s, p)
		if tok == first {
			t.Errorf("a changed %s kept the token", name)
		}
		if got, err := v.Verify(tok); err != nil || !reflect.DeepEqual(got, p) {
			t.Errorf("changed %s: verified %+v, %v", name, got, err)
		}
	}
	if again := mustSign(t, s, full()); again != first {
		t.Fatal("other principals' tokens replaced the first one's")
	}

	clk.set(start.Add(TTL - Refresh - time.Second))
	if again := mustSign(t, s, full()); again != first {
		t.Fatal("a new token before the refresh point")
	}
	clk.set(start.Add(TTL - Refresh))
	renewed := mustSign(t, s, full())
	if renewed == first {
		t.Fatal("the token was still forwarded with only Refresh left")
	}
	if got, err := v.Verify(renewed); err != nil || !reflect.DeepEqual(got, full()) {
		t.Fatalf("the renewed token: %+v, %v", got, err)
	}
	if again := mustSign(t, s, full()); again != renewed {
		t.Fatal("the renewed token was not reused")
	}
}

func TestSignCacheIsBounded(t *testing.T) {
	s, _, _ := pair(t)
	s.tokens = newCache[cachedToken](2)
	principal := func(i int) access.Principal { p := full(); p.ID = fmt.Sprint("tok-", i); return p }
	first := mustSign(t, s, principal(1))
	mustSign(t, s, principal(2))
	mustSign(t, s, principal(3)) // evicts the least recently used: 1
	if n := s.tokens.Len(); n != 2 {
		t.Fatalf("%d entries, bound 2", n)
	}
	if mustSign(t, s, principal(1)) == first {
		t.Fatal("an evicted principal's token was still served")
	}
}

func TestVerifyRemembersAVerifiedTokenUntilItsExp(t *testing.T) {
	s, v, clk := clockedPair(t)
	start := clk.now()
	tok := mustSign(t, s, full())
	if _, err := v.Verify(tok); err != nil {
		t.Fatal(err)
	}
	if n := v.verified.Len(); n != 1 {
		t.Fatalf("%d remembered tokens, want 1", n)
	}
	// A hit does not verify again: with the keys gone it still answers, the same principal.
	keys := v.keys
	v.keys = nil
	got, err := v.Verify(tok)
	if err != nil || !reflect.DeepEqual(got, full()) {
		t.Fatalf("a remembered token: %+v, %v", got, err)
	}
	// What a caller does with its copy never reaches the next request.
	got.Roles[0], got.Perms[0], got.Teams[0] = "admin", access.UsersAdmin, "everyone"
	if again, _ := v.Verify(tok); !reflect.DeepEqual(again, full()) {
		t.Fatalf("the remembered principal was changed through a caller: %+v", again)
	}
	v.keys = keys

	// Within the leeway past exp it still serves; beyond it the entry is refused and dropped.
	clk.set(start.Add(TTL + Leeway))
	if _, err := v.Verify(tok); err != nil {
		t.Fatalf("at exp + leeway: %v", err)
	}
	clk.set(start.Add(TTL + Leeway + time.Second))
	refused(t, v, tok, "a remembered token past its exp")
	if v.verified.Contains(sha256Of(tok)) {
		t.Fatal("an expired token stayed remembered")
	}
	// Nor is a token issued in the future (a clock set back) served from memory.
	clk.set(start)
	tok2 := mustSign(t, at(s, start), access.Principal{Kind: access.KindUser, ID: "u-2"})
	if _, err := v.Verify(tok2); err != nil {
		t.Fatal(err)
	}
	clk.set(start.Add(-Leeway - time.Second))
	refused(t, v, tok2, "a remembered token before its iat")
}

func TestVerifyNeverRemembersAFailure(t *testing.T) {
	s, v, _ := pair(t)
	other, _, _ := pair(t)
	refused(t, v, mustSign(t, other, full()), "another gateway's key")
	bad := full()
	bad.Perms = append(bad.Perms, "root:everything")
	refused(t, v, mustSign(t, s, bad), "unknown permission")
	refused(t, v, "garbage", "garbage")
	if n := v.verified.Len(); n != 0 {
		t.Fatalf("%d failures remembered", n)
	}
}

func TestVerifyCacheIsBounded(t *testing.T) {
	s, v, _ := pair(t)
	v.verified = newCache[verified](2)
	var toks []string
	for i := range 3 {
		p := full()
		p.ID = fmt.Sprint("tok-", i)
		tok := mustSign(t, s, p)
		if _, err := v.Verify(tok); err != nil {
			t.Fatal(err)
		}
		toks = append(toks, tok)
	}
	if n := v.verified.Len(); n != 2 {
		t.Fatalf("%d entries, bound 2", n)
	}
	if v.verified.Contains(sha256Of(toks[0])) || !v.verified.Contains(sha256Of(toks[2])) {
		t.Fatal("the least recently used token was not the one evicted")
	}
	// An evicted token is verified again in full, and still passes.
	if _, err := v.Verify(toks[0]); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentSignAndVerify is for -race: one signer and one verifier shared by requests of
// a few principals.
func TestConcurrentSignAndVerify(t *testing.T) {
	s, v, _ := pair(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			p := full()
			p.ID = fmt.Sprint("tok-", g%3)
			for range 50 {
				tok, err := s.Sign(p)
				if err != nil {
					t.Error(err)
					return
				}
				if got, err := v.Verify(tok); err != nil || got.ID != p.ID {
					t.Errorf("verified %+v, %v", got, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkSign: cold signs every time (what each request paid before), cached reuses the token.
func BenchmarkSign(b *testing.B) {
	s, _, _ := pair(b)
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			s.tokens.Purge()
			if _, err := s.Sign(full()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Sign(full()); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkVerify: cold verifies the signature every time, cached finds the token remembered.
func BenchmarkVerify(b *testing.B) {
	s, v, _ := pair(b)
	tok := mustSign(b, s, full())
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			v.verified.Purge()
			if _, err := v.Verify(tok); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			if _, err := v.Verify(tok); err != nil {
				b.Fatal(err)
			}
		}
	})
}
