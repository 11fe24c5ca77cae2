package elastic

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The real servers the tests run against (deploy/dev/elasticsearch.sh and opensearch.sh).
var servers = []struct {
	name, env, flavor string
}{
	{"elasticsearch", "SOC_TEST_ELASTICSEARCH_URL", FlavorElasticsearch},
	{"opensearch", "SOC_TEST_OPENSEARCH_URL", FlavorOpenSearch},
}

// eachServer runs f as a subtest per server, each skipped with a message when its URL is unset.
func eachServer(t *testing.T, f func(t *testing.T, cfg Config)) {
	t.Helper()
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			u := os.Getenv(s.env)
			if u == "" {
				t.Skipf("%s is unset: no %s to test against (deploy/dev/%s.sh starts one)", s.env, s.name, s.name)
			}
			f(t, Config{URL: u, Flavor: s.flavor})
		})
	}
}

var notIndexName = regexp.MustCompile(`[^a-z0-9]+`)

// uniqueAlias is an alias of the test's own, so that tests (and runs) never share an index.
func uniqueAlias(t testing.TB) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := strings.Trim(notIndexName.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if len(name) > 60 {
		name = name[len(name)-60:]
	}
	return "soctest-" + strings.Trim(name, "-") + "-" + hex.EncodeToString(b[:])
}

// openTest opens an index under a unique alias and deletes every generation of it at the end.
func openTest(t testing.TB, cfg Config) *Index {
	t.Helper()
	cfg.Index = uniqueAlias(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ix, err := Open(ctx, cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { dropAll(t, ix) })
	return ix
}

// dropAll deletes the alias's concrete indices (by name: servers may refuse wildcard deletes).
func dropAll(t testing.TB, ix *Index) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	gens, err := ix.generations(ctx)
	if err != nil {
		t.Errorf("cleanup: list generations: %v", err)
		return
	}
	for _, n := range gens {
		if err := ix.deleteIndex(ctx, generationName(ix.alias, n)); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	}
}

// openFixture opens a test index holding fixture() at position 6.
func openFixture(t *testing.T, cfg Config) *Index {
	t.Helper()
	ix := openTest(t, cfg)
	if err := ix.Write(context.Background(), fixture(), 6); err != nil {
		t.Fatal(err)
	}
	return ix
}
