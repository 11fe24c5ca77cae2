package elastic

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/socplatform/soc/projections/search"
)

// TestSwapWhileSearching rebuilds the index several times while a goroutine searches the alias
// in a loop: no search may fail, and every answer is a whole generation (never a half-built one).
func TestSwapWhileSearching(t *testing.T) {
	eachServer(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		live := openTest(t, cfg)
		docs := fixture()
		if err := live.Write(ctx, docs, 6); err != nil {
			t.Fatal(err)
		}
		var searches, failures, partial atomic.Int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					res, err := live.Search(ctx, search.Request{Query: q(text("log4j2")), Facets: []string{"kind"}})
					searches.Add(1)
					if err != nil {
						failures.Add(1)
						t.Errorf("search during a swap: %v", err)
						continue
					}
					if res.Total != 2 {
						partial.Add(1)
					}
				}
			}()
		}
		const rebuilds = 4
		for i := range rebuilds {
			next, err := live.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			// Half-built: the new generation holds one document for a while.
			if err := next.Write(ctx, docs[:1], 1); err != nil {
				t.Fatal(err)
			}
			if err := next.Write(ctx, docs, int64(100+i)); err != nil {
				t.Fatal(err)
			}
			if err := live.Swap(ctx, next); err != nil {
				t.Fatal(err)
			}
			if p, err := live.Position(ctx); err != nil || p != int64(100+i) {
				t.Errorf("after swap %d the live position is %d, %v; want the new generation's %d", i, p, err, 100+i)
			}
		}
		close(stop)
		wg.Wait()
		t.Logf("%d searches during %d swaps: %d failed, %d saw a partial index", searches.Load(), rebuilds, failures.Load(), partial.Load())
		if failures.Load() != 0 || partial.Load() != 0 {
			t.Errorf("%d of %d searches failed, %d saw a partial index", failures.Load(), searches.Load(), partial.Load())
		}
		gens, err := live.generations(ctx)
		if err != nil || !slices.Equal(gens, []int{1 + rebuilds}) {
			t.Errorf("generations left: %v, %v; want only %d", gens, err, 1+rebuilds)
		}
		// The live index writes through the alias: into the generation swapped in.
		extra := search.Doc{ID: "f9", Kind: search.KindFinding, Version: 1, Title: "log4j2 again", At: t0}
		if err := live.Write(ctx, []search.Doc{extra}, 200); err != nil {
			t.Fatal(err)
		}
		if got, err := live.Load(ctx, []string{"f9"}); err != nil || len(got) != 1 {
			t.Errorf("a write after the swaps is not in the live index: %v, %v", got, err)
		}
	})
}

func TestAbort(t *testing.T) {
	eachServer(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		live := openFixture(t, cfg)
		next, err := live.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := next.Write(ctx, fixture()[:2], 2); err != nil {
			t.Fatal(err)
		}
		if res, err := live.Search(ctx, search.Request{}); err != nil || res.Total != 5 {
			t.Errorf("live index during a rebuild: %d, %v; want 5 (the new generation is not live)", res.Total, err)
		}
		if err := live.Abort(ctx, next); err != nil {
			t.Fatal(err)
		}
		if gens, err := live.generations(ctx); err != nil || !slices.Equal(gens, []int{1}) {
			t.Errorf("generations after abort: %v, %v", gens, err)
		}
		if p, err := live.Position(ctx); err != nil || p != 6 {
			t.Errorf("position after abort: %d, %v", p, err)
		}
		if err := live.Swap(ctx, live); err == nil {
			t.Error("swapped in the live alias itself")
		}
	})
}

// vanishing answers the first searches as a server does when the index a search resolved the
// alias to is deleted under it (an alias swap racing the search), then passes requests on to
// the real server: the race, which the swap test can only hope to meet, made certain.
type vanishing struct {
	transport
	answers []string // the bodies of the next answers, each with its status first
}

func (v *vanishing) Perform(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/_search") && len(v.answers) > 0 {
		status, body, _ := strings.Cut(v.answers[0], " ")
		v.answers = v.answers[1:]
		code, _ := strconv.Atoi(status)
		return &http.Response{StatusCode: code, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(body)), Request: req}, nil
	}
	return v.transport.Perform(req)
}

func TestSearchSentAgainWhenItsIndexVanished(t *testing.T) {
	eachServer(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		live := openFixture(t, cfg)
		gone := `404 {"error":{"type":"index_not_found_exception","reason":"no such index [x-000001]"},"status":404}`
		partial := `200 {"_shards":{"total":1,"successful":0,"failed":1,"failures":[{"reason":{"type":"index_not_found_exception"}}]},"hits":{"total":{"value":0},"hits":[]}}`
		v := &vanishing{transport: live.tp, answers: []string{gone, partial}}
		racing := &Index{tp: v, alias: live.alias, target: live.target, bulkBytes: live.bulkBytes}
		res, err := racing.Search(ctx, search.Request{Query: q(text("log4j2"))})
		if err != nil || res.Total != 2 {
			t.Errorf("search after its index vanished twice: total %d, %v; want the live index's 2", res.Total, err)
		}
		v.answers = []string{gone, gone, gone}
		if _, err := racing.Search(ctx, search.Request{}); err == nil {
			t.Error("a search whose index is gone on every attempt succeeded")
		}
		v.answers = []string{`400 {"error":{"type":"parsing_exception","reason":"bad"},"status":400}`}
		if _, err := racing.Search(ctx, search.Request{}); err == nil {
			t.Error("a refused search was sent again (and answered)")
		}
	})
}
