package elastic

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/socplatform/soc/projections/search"
)

// counting passes requests on to the real server and records each _bulk request's size and query.
type counting struct {
	transport
	mu    sync.Mutex
	bulks []string // "<bytes> <query>"
}

func (c *counting) Perform(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/_bulk") {
		c.mu.Lock()
		c.bulks = append(c.bulks, fmt.Sprintf("%d %s", req.ContentLength, req.URL.RawQuery))
		c.mu.Unlock()
	}
	return c.transport.Perform(req)
}

func TestWriteSplitsLargeBatches(t *testing.T) {
	eachServer(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		ix := openTest(t, cfg)
		c := &counting{transport: ix.tp}
		ix.tp = c
		ix.bulkBytes = 64 << 10
		docs := make([]search.Doc, 40)
		for i := range docs {
			docs[i] = search.Doc{ID: fmt.Sprintf("big-%02d", i), Kind: search.KindFinding, Version: 1, At: t0,
				Title: "large finding", Text: strings.Repeat("lorem ipsum ", 1000)} // ~12 KB each
		}
		if err := ix.Write(ctx, docs, 9); err != nil {
			t.Fatal(err)
		}
		if len(c.bulks) < 7 {
			t.Errorf("%d _bulk requests for ~480 KB at 64 KB each: %v", len(c.bulks), c.bulks)
		}
		for i, b := range c.bulks {
			var size int
			var q string
			fmt.Sscanf(b, "%d %s", &size, &q)
			if size > ix.bulkBytes {
				t.Errorf("request %d has %d bytes, over %d", i, size, ix.bulkBytes)
			}
			if last := i == len(c.bulks)-1; strings.Contains(b, "refresh=true") != last {
				t.Errorf("request %d of %d: query %q (only the last refreshes)", i+1, len(c.bulks), q)
			}
		}
		res, err := ix.Search(ctx, search.Request{Query: q(text("lorem"))})
		if err != nil || res.Total != 40 {
			t.Errorf("after the write: %d found, %v; want 40", res.Total, err)
		}
		if p, err := ix.Position(ctx); err != nil || p != 9 {
			t.Errorf("position %d, %v", p, err)
		}
	})
}

func FuzzDecodeCursor(f *testing.F) {
	f.Add(encodeCursor(cursor{Sort: "at:desc", After: []json.RawMessage{json.RawMessage(`"2026"`), json.RawMessage(`"f1"`)}}))
	f.Add(encodeCursor(cursor{Sort: "relevance", After: []json.RawMessage{json.RawMessage(`1.5`), json.RawMessage(`"f1"`)}}))
	f.Add("")
	f.Add("eyJzIjoiYXQ6ZGVzYyIsImEiOltdfQ")
	f.Fuzz(func(t *testing.T, s string) {
		for _, sort := range []string{"at:desc", "relevance"} {
			after, err := decodeCursor(s, sort, 2)
			if err != nil {
				continue
			}
			// An accepted cursor is two scalar sort values, which survive a round trip.
			if len(after) != 2 {
				t.Fatalf("accepted %q with %d values", s, len(after))
			}
			again, err := decodeCursor(encodeCursor(cursor{Sort: sort, After: after}), sort, 2)
			if err != nil || len(again) != 2 {
				t.Fatalf("round trip of %q: %v", s, err)
			}
		}
	})
}
