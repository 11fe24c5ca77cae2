package schemas

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"strings"
	"testing"
)

// TestPublishedSchemasAreImmutable fails when a schema listed in events.lock was edited or removed
// (consumers may hold events written under it: add <Type>.v<N+1>.json and an upcaster instead),
// or when a new schema was added without being locked (run `make schemas-lock`).
func TestPublishedSchemasAreImmutable(t *testing.T) {
	locked := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(EventsLock), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			t.Fatalf("events.lock: malformed line %q", line)
		}
		locked[f[1]] = f[0]
	}
	seen := map[string]bool{}
	err := fs.WalkDir(events, "events", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(events, path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		got := hex.EncodeToString(sum[:])
		seen[path] = true
		want, ok := locked[path]
		switch {
		case !ok:
			t.Errorf("%s is not in events.lock: run `make schemas-lock` once the schema is final", path)
		case want != got:
			t.Errorf("%s changed after publication: published schemas are immutable; add a new version and an upcaster", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for path := range locked {
		if !seen[path] {
			t.Errorf("%s is in events.lock but was deleted: published schemas must stay", path)
		}
	}
}
