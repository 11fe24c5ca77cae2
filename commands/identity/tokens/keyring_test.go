package tokens

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

func keyFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, keyFilePrefix+"*"+keyFileSuffix))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func jwksKIDs(t *testing.T, k *Keyring) []string {
	t.Helper()
	b, err := k.JWKS()
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Keys []struct {
			KID string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.KID)
	}
	return kids
}

func TestOpenKeyringConfig(t *testing.T) {
	dir := t.TempDir()
	for name, cfg := range map[string]KeyConfig{
		"no dir":      {Issuer: testIssuer, Audience: testAudience},
		"no issuer":   {Dir: dir, Audience: testAudience},
		"no audience": {Dir: dir, Issuer: testIssuer},
		"negative":    {Dir: dir, Issuer: testIssuer, Audience: testAudience, AccessTTL: -time.Minute},
	} {
		if _, err := OpenKeyring(cfg, nil); err == nil {
			t.Errorf("%s: opened", name)
		}
	}
	k, err := OpenKeyring(testConfig(dir), nil)
	if err != nil {
		t.Fatal(err)
	}
	if k.cfg.AccessTTL != DefaultAccessTTL || k.cfg.RotateEvery != DefaultRotateEvery {
		t.Fatalf("defaults %v %v", k.cfg.AccessTTL, k.cfg.RotateEvery)
	}
}

func TestKeyFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	k := openRing(t, testConfig(dir), newClock())
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode %o", fi.Mode().Perm())
	}
	files := keyFiles(t, dir)
	if len(files) != 1 {
		t.Fatalf("key files %v", files)
	}
	fi, err = os.Stat(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %o", fi.Mode().Perm())
	}
	key := activeKey(k)
	if filepath.Base(files[0]) != "key-"+key.kid+".json" {
		t.Fatalf("file %s for kid %s", files[0], key.kid)
	}
	// The kid is the RFC 7638 thumbprint of the public key.
	if want, _ := kidOf(key.pub); key.kid != want || len(key.kid) != 43 {
		t.Fatalf("kid %q, thumbprint %q", key.kid, want)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("the writer left files behind: %v", entries)
	}
}

func TestRestartKeepsTheKey(t *testing.T) {
	k, c, dir := newRing(t)
	tok := issue(t, k)
	c.Advance(time.Minute)
	k2 := openRing(t, testConfig(dir), c)
	if activeKID(k2) != activeKID(k) {
		t.Fatal("a restart made a new key")
	}
	if _, err := k2.Verify(tok); err != nil {
		t.Fatal(err)
	}
}

func TestRefusesKeyFilesOpenToOthers(t *testing.T) {
	dir := t.TempDir()
	k := openRing(t, testConfig(dir), newClock())
	if err := os.Chmod(filepath.Join(dir, "key-"+activeKID(k)+".json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenKeyring(testConfig(dir), newClock().Now); err == nil || !strings.Contains(err.Error(), "open to other users") {
		t.Fatalf("opened over a world-readable key: %v", err)
	}
}

func TestRefusesCorruptOrMisnamedKeyFiles(t *testing.T) {
	c := newClock()
	t.Run("truncated", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "key-abc.json"), []byte(`{"kid":"abc","alg":"Ed`), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := OpenKeyring(testConfig(dir), c.Now); err == nil {
			t.Fatal("opened over a truncated key file")
		}
	})
	t.Run("another key under this name", func(t *testing.T) {
		dir := t.TempDir()
		k := openRing(t, testConfig(dir), c)
		b, err := os.ReadFile(filepath.Join(dir, "key-"+activeKID(k)+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "key-"+strings.Repeat("A", 43)+".json"), b, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := OpenKeyring(testConfig(dir), c.Now); err == nil {
			t.Fatal("opened a key file whose name is not its key's kid")
		}
	})
	t.Run("temporary files are not keys", func(t *testing.T) {
		// What a writer that crashed before its rename leaves: never read.
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, tempPrefix+"123"), []byte(`{"ki`), 0o600); err != nil {
			t.Fatal(err)
		}
		openRing(t, testConfig(dir), c)
	})
}

func TestLazyRotationOnIssue(t *testing.T) {
	k, c, dir := newRing(t)
	first := activeKID(k)
	c.Advance(DefaultRotateEvery - time.Second)
	before := issue(t, k) // the last token of the first key
	if activeKID(k) != first {
		t.Fatal("rotated early")
	}
	c.Advance(time.Second)
	after := issue(t, k)
	second := activeKID(k)
	if second == first {
		t.Fatal("the key was not rotated after RotateEvery")
	}
	if got := jwksKIDs(t, k); len(got) != 2 || got[0] != first || got[1] != second {
		t.Fatalf("JWKS kids %v, want [%s %s]", got, first, second)
	}
	// The retired key verifies the tokens it signed for as long as they are valid, leeway
	// included.
	c.Advance(DefaultAccessTTL + Leeway - 2*time.Second)
	for _, tok := range []string{before, after} {
		if _, err := k.Verify(tok); err != nil {
			t.Fatalf("after rotation: %v", err)
		}
	}
	// Then it is removed: from the JWKS, the directory and verification.
	c.Advance(2*time.Second + ReloadEvery)
	issue(t, k) // the reload that prunes
	if got := jwksKIDs(t, k); len(got) != 1 || got[0] != second {
		t.Fatalf("JWKS kids %v, want [%s]", got, second)
	}
	if files := keyFiles(t, dir); len(files) != 1 || !strings.Contains(files[0], second) {
		t.Fatalf("key files %v", files)
	}
	expectRefused(t, k, before, ErrUnknownKey)
}

func TestRotateKeepsTheRetiredKeyUntilItsTokensExpire(t *testing.T) {
	k, c, _ := newRing(t)
	old := issue(t, k)
	oldKID := activeKID(k)
	if err := k.Rotate(); err != nil {
		t.Fatal(err)
	}
	if activeKID(k) == oldKID {
		t.Fatal("Rotate kept the key")
	}
	c.Advance(DefaultAccessTTL + Leeway - time.Second)
	if _, err := k.Verify(old); err != nil {
		t.Fatalf("a token of the retired key: %v", err)
	}
	// Removed in memory at its time even without a reload.
	c.Advance(2*time.Second + ReloadEvery)
	expectRefused(t, k, old, ErrUnknownKey)
}

func TestSecondKeyringVerifiesTheFirstsTokens(t *testing.T) {
	a, c, dir := newRing(t)
	b := openRing(t, testConfig(dir), c)
	if _, err := b.Verify(issue(t, a)); err != nil {
		t.Fatal(err)
	}
	// A rotates: B learns the new key from the directory at the first token it signs (the
	// directory changed since B read it, so no wait).
	if err := a.Rotate(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Verify(issue(t, a)); err != nil {
		t.Fatalf("a token of A's new key: %v", err)
	}
	// And B signs with it too once its view is ReloadEvery old: it does not go on signing with
	// a key another node retired.
	c.Advance(ReloadEvery)
	tok := issue(t, b)
	if activeKID(b) != activeKID(a) {
		t.Fatalf("B signs with %s, A with %s", activeKID(b), activeKID(a))
	}
	if _, err := a.Verify(tok); err != nil {
		t.Fatal(err)
	}
}

func TestUnknownKIDsRereadTheDirectoryAtMostOncePerInterval(t *testing.T) {
	k, c, _ := newRing(t)
	reads := func() int {
		k.mu.RLock()
		defer k.mu.RUnlock()
		return k.reloads
	}
	start := reads()
	forged := sign(t, jose.EdDSA, otherKey(t), "forged", tokenType, validClaims(c.Now()))
	for range 50 {
		expectRefused(t, k, forged, ErrUnknownKey)
	}
	if got := reads() - start; got != 0 {
		t.Fatalf("50 forged kids read the unchanged directory %d times", got)
	}
	c.Advance(ReloadEvery)
	for range 50 {
		expectRefused(t, k, forged, ErrUnknownKey)
	}
	if got := reads() - start; got != 1 {
		t.Fatalf("after ReloadEvery: %d reads, want 1", got)
	}
}

func TestConcurrentRotationByTwoNodes(t *testing.T) {
	a, c, dir := newRing(t)
	b := openRing(t, testConfig(dir), c)
	old := issue(t, a)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 10 {
		wg.Add(2)
		go func() { defer wg.Done(); errs <- a.Rotate() }()
		go func() { defer wg.Done(); errs <- b.Rotate() }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Both settle on the newest key once they reload, and verify each other's tokens and the
	// ones signed before the rotations.
	c.Advance(ReloadEvery)
	ta, tb := issue(t, a), issue(t, b)
	if activeKID(a) != activeKID(b) {
		t.Fatalf("A signs with %s, B with %s", activeKID(a), activeKID(b))
	}
	for _, tok := range []string{ta, tb, old} {
		for _, k := range []*Keyring{a, b} {
			if _, err := k.Verify(tok); err != nil {
				t.Fatal(err)
			}
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 21 {
		t.Fatalf("%d files, want the first key and 20 rotations", len(entries))
	}
}

func TestConcurrentIssueVerifyRotate(t *testing.T) {
	// For the race detector: one keyring used from many goroutines while it rotates.
	k, _, _ := newRing(t)
	var wg sync.WaitGroup
	failures := make(chan error, 100)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 25 {
				if i == 0 {
					if err := k.Rotate(); err != nil {
						failures <- err
					}
					continue
				}
				tok, _, err := k.Issue("u", "s")
				if err == nil {
					_, err = k.Verify(tok)
				}
				if err == nil {
					_, err = k.JWKS()
				}
				if err != nil {
					failures <- err
				}
			}
		}()
	}
	wg.Wait()
	close(failures)
	for err := range failures {
		t.Error(err)
	}
}

func TestVerifyKeepsTheViewWhenTheDirectoryBreaks(t *testing.T) {
	k, c, dir := newRing(t)
	tok := issue(t, k)
	if err := os.WriteFile(filepath.Join(dir, "key-broken.json"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.Advance(ReloadEvery)
	forged := sign(t, jose.EdDSA, otherKey(t), "forged", tokenType, validClaims(c.Now()))
	expectRefused(t, k, forged, ErrUnknownKey)
	if _, err := k.Verify(tok); err != nil {
		t.Fatalf("known key after a failed reload: %v", err)
	}
	if _, _, err := k.Issue("u", "s"); err == nil || errors.Is(err, ErrInvalidToken) {
		t.Fatalf("Issue over a broken directory: %v", err)
	}
}

func TestKeysDeletedBehindTheKeyring(t *testing.T) {
	k, c, dir := newRing(t)
	old := issue(t, k)
	for _, f := range keyFiles(t, dir) {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	// A forged kid makes the keyring reread the changed directory: it finds no key, and the
	// next Issue writes a new one instead of failing.
	expectRefused(t, k, sign(t, jose.EdDSA, otherKey(t), "forged", tokenType, validClaims(c.Now())), ErrUnknownKey)
	tok := issue(t, k)
	if _, err := k.Verify(tok); err != nil {
		t.Fatal(err)
	}
	expectRefused(t, k, old, ErrUnknownKey)
	if len(keyFiles(t, dir)) != 1 {
		t.Fatal("no new key file")
	}
}

func TestRetiredKeyActiveAgainWhenTheNewerOnesAreDeleted(t *testing.T) {
	// An operator deletes the newer keys (a bad rotation): the one left signs and verifies
	// again, whatever the previous view said of its retirement.
	k, c, dir := newRing(t)
	first := activeKID(k)
	if err := k.Rotate(); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Minute)
	if err := os.Remove(filepath.Join(dir, "key-"+activeKID(k)+".json")); err != nil {
		t.Fatal(err)
	}
	c.Advance(DefaultAccessTTL + Leeway + ReloadEvery)
	tok := issue(t, k)
	if activeKID(k) != first {
		t.Fatalf("signs with %s, want the remaining %s", activeKID(k), first)
	}
	if _, err := k.Verify(tok); err != nil {
		t.Fatal(err)
	}
}

func TestReadersNeverSeeAPartialKeyFile(t *testing.T) {
	// One node rotates over and over while another rereads the directory: every key file it
	// finds is whole (written to a temporary file, then renamed), so no read fails.
	a, c, dir := newRing(t)
	b := openRing(t, testConfig(dir), c)
	done := make(chan struct{})
	var rotateErr error
	go func() {
		defer close(done)
		for range 50 {
			if rotateErr = a.Rotate(); rotateErr != nil {
				return
			}
		}
	}()
	for reads := 0; ; reads++ {
		select {
		case <-done:
			if rotateErr != nil {
				t.Fatal(rotateErr)
			}
			t.Logf("%d reads during 50 rotations", reads)
			return
		default:
		}
		b.loadMu.Lock()
		err := b.load()
		b.loadMu.Unlock()
		if err != nil {
			t.Fatalf("read %d: %v", reads, err)
		}
	}
}
