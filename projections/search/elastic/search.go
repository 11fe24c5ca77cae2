package elastic

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/socplatform/soc/projections/search"
)

// maxFacetSize bounds a facet's values (the servers' search.max_buckets is 10,000 to 65,536).
const maxFacetSize = 10000

// searchAnswer is the part of a _search answer the index reads.
type searchAnswer struct {
	Shards struct {
		Failed   int             `json:"failed"`
		Failures json.RawMessage `json:"failures"`
	} `json:"_shards"`
	Hits struct {
		Total struct {
			Value int64 `json:"value"`
		} `json:"total"`
		Hits []struct {
			ID        string              `json:"_id"`
			Score     *float64            `json:"_score"`
			Source    json.RawMessage     `json:"_source"`
			Sort      []json.RawMessage   `json:"sort"`
			Highlight map[string][]string `json:"highlight"`
		} `json:"hits"`
	} `json:"hits"`
	Aggregations map[string]struct {
		Buckets []struct {
			Key      string `json:"key"`
			DocCount int64  `json:"doc_count"`
		} `json:"buckets"`
	} `json:"aggregations"`
}

// searchAttempts bounds how often a search is sent when the index it reached was just dropped
// (an alias swap deletes the old index; a search that resolved the alias before the swap may
// find it gone) or the server is briefly unavailable.
const searchAttempts = 3

// search runs one _search on the index and fails on a partial answer (a failed shard).
func (ix *Index) search(ctx context.Context, body map[string]any) (searchAnswer, error) {
	var err error
	for range searchAttempts {
		var ans searchAnswer
		err = ix.do(ctx, http.MethodPost, "/"+ix.target+"/_search", nil, body, &ans)
		if err == nil && ans.Shards.Failed > 0 {
			err = fmt.Errorf("%w: %d shards failed: %s", search.ErrUnavailable, ans.Shards.Failed, ans.Shards.Failures)
		}
		if err == nil || !retryable(err) || ctx.Err() != nil {
			return ans, err
		}
	}
	return searchAnswer{}, err
}

// retryable is an error a search sent again may not meet: the server unavailable, or the
// concrete index behind the alias gone.
func retryable(err error) bool {
	var se *serverError
	if errors.As(err, &se) && se.Type == "index_not_found_exception" {
		return true
	}
	return errors.Is(err, search.ErrUnavailable)
}

// cursor is what Result.Next carries: the last hit's sort values, and which sort they are of.
type cursor struct {
	Sort  string            `json:"s"`
	After []json.RawMessage `json:"a"`
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s, sort string, keys int) ([]json.RawMessage, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: not base64url", search.ErrBadCursor)
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%w: not a cursor", search.ErrBadCursor)
	}
	if c.Sort != sort || len(c.After) != keys {
		return nil, fmt.Errorf("%w: of another sort", search.ErrBadCursor)
	}
	for _, v := range c.After {
		var x any
		if err := json.Unmarshal(v, &x); err != nil {
			return nil, fmt.Errorf("%w: not a cursor", search.ErrBadCursor)
		}
		switch x.(type) {
		case string, float64, bool, nil:
		default:
			return nil, fmt.Errorf("%w: not a cursor", search.ErrBadCursor)
		}
	}
	return c.After, nil
}

// Search answers a request: one _search with the compiled query, sort, search_after, facets as
// terms aggregations and highlighting.
func (ix *Index) Search(ctx context.Context, r search.Request) (search.Result, error) {
	r, err := search.CheckRequest(r)
	if err != nil {
		return search.Result{}, err
	}
	if r.FacetSize > maxFacetSize {
		// The servers refuse an aggregation of more buckets than search.max_buckets.
		return search.Result{}, &search.ParamError{Param: "facet_size", Reason: fmt.Sprintf("must be at most %d", maxFacetSize)}
	}
	limit, facetSize := r.Limit, r.FacetSize
	c, err := compile(r)
	if err != nil {
		return search.Result{}, err
	}
	sortBy, sortName, err := sortKeys(r.Sort)
	if err != nil {
		return search.Result{}, err
	}
	body := map[string]any{
		"query":            c.query,
		"sort":             sortBy,
		"size":             limit + 1, // one more tells whether a next page exists
		"track_total_hits": true,
		"_source":          map[string]any{"excludes": []string{"state"}},
	}
	if r.Cursor != "" {
		after, err := decodeCursor(r.Cursor, sortName, len(sortBy))
		if err != nil {
			return search.Result{}, err
		}
		body["search_after"] = after
	}
	if len(r.Facets) > 0 {
		aggs := map[string]any{}
		for _, f := range r.Facets {
			aggs[f] = map[string]any{"terms": map[string]any{
				"field":   facetField(f),
				"size":    facetSize,
				"order":   []any{map[string]any{"_count": "desc"}, map[string]any{"_key": "asc"}},
				"exclude": []string{""},
			}}
		}
		body["aggs"] = aggs
	}
	if r.Highlight && len(c.freeText) > 0 {
		body["highlight"] = map[string]any{
			"pre_tags":            []string{"<mark>"},
			"post_tags":           []string{"</mark>"},
			"encoder":             "html",
			"require_field_match": true,
			"highlight_query":     anyOf(c.freeText),
			"fields": map[string]any{
				"title": map[string]any{"number_of_fragments": 0},
				"text":  map[string]any{"fragment_size": 150, "number_of_fragments": 3},
			},
		}
	}
	ans, err := ix.search(ctx, body)
	if err != nil {
		return search.Result{}, fmt.Errorf("search: %w", err)
	}
	res := search.Result{Total: ans.Hits.Total.Value, Hits: make([]search.Hit, 0, min(limit, len(ans.Hits.Hits)))}
	for i, h := range ans.Hits.Hits {
		if i == limit {
			res.Next = encodeCursor(cursor{Sort: sortName, After: ans.Hits.Hits[i-1].Sort})
			break
		}
		d, err := decodeDoc(h.Source)
		if err != nil {
			return search.Result{}, fmt.Errorf("search: hit %s: %w", h.ID, err)
		}
		d.State = nil
		hit := search.Hit{Doc: d}
		if h.Score != nil {
			hit.Score = *h.Score
		}
		if len(h.Highlight) > 0 {
			hit.Highlights = h.Highlight
		}
		res.Hits = append(res.Hits, hit)
	}
	if len(r.Facets) > 0 {
		res.Facets = make(map[string][]search.FacetValue, len(r.Facets))
		for _, f := range r.Facets {
			vals := []search.FacetValue{}
			for _, b := range ans.Aggregations[f].Buckets {
				vals = append(vals, search.FacetValue{Value: b.Key, Count: b.DocCount})
			}
			res.Facets[f] = vals
		}
	}
	return res, nil
}
