package elastic

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/socplatform/soc/projections/search"
)

// Begin creates the next concrete index behind the alias (alias-NNNNNN, one more than the
// highest there is), with the same mappings and no alias: writes to the returned Index go to
// it alone, searches of the live alias do not see it.
func (ix *Index) Begin(ctx context.Context) (search.Index, error) {
	names, err := ix.generations(ctx)
	if err != nil {
		return nil, fmt.Errorf("search: begin a generation: %w", err)
	}
	next := 1
	for _, n := range names {
		next = max(next, n+1)
	}
	name := generationName(ix.alias, next)
	if err := ix.do(ctx, http.MethodPut, "/"+name, nil, indexBody(), nil); err != nil {
		return nil, fmt.Errorf("search: begin a generation: %w", err)
	}
	return &Index{tp: ix.tp, alias: ix.alias, target: name, bulkBytes: ix.bulkBytes}, nil
}

// generations returns the numbers of the concrete indices behind the alias's name.
func (ix *Index) generations(ctx context.Context) ([]int, error) {
	var rows []struct {
		Index string `json:"index"`
	}
	q := url.Values{"format": {"json"}, "h": {"index"}, "expand_wildcards": {"all"}}
	if err := ix.do(ctx, http.MethodGet, "/_cat/indices/"+ix.alias+"-*", q, nil, &rows); err != nil {
		return nil, err
	}
	var out []int
	for _, r := range rows {
		if n, ok := generationNumber(ix.alias, r.Index); ok {
			out = append(out, n)
		}
	}
	return out, nil
}

// generationNumber is the number of a concrete index name behind alias (false when the name is
// not one: another alias's index that shares the prefix).
func generationNumber(alias, name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, alias+"-")
	if !ok || len(rest) < 6 {
		return 0, false
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil
}

// owned checks that next is a generation Begin made for this alias.
func (ix *Index) owned(next search.Index) (*Index, error) {
	n, ok := next.(*Index)
	if !ok || n.alias != ix.alias || n.target == ix.alias {
		return nil, errors.New("search: not a generation of this index")
	}
	if _, ok := generationNumber(ix.alias, n.target); !ok {
		return nil, errors.New("search: not a generation of this index")
	}
	return n, nil
}

// Swap points the alias at next in one atomic _aliases request (removing it from the indices
// it pointed to, adding it to next as the write index), then deletes those indices. Searches
// in flight on a deleted index are sent again by Search.
func (ix *Index) Swap(ctx context.Context, next search.Index) error {
	n, err := ix.owned(next)
	if err != nil {
		return err
	}
	var current map[string]any
	err = ix.do(ctx, http.MethodGet, "/_alias/"+ix.alias, nil, nil, &current)
	var se *serverError
	if err != nil && !(errors.As(err, &se) && se.Status == http.StatusNotFound) {
		return fmt.Errorf("search: swap: %w", err)
	}
	var actions []any
	var old []string
	for name := range current {
		if name == n.target {
			continue
		}
		old = append(old, name)
		actions = append(actions, map[string]any{"remove": map[string]any{"index": name, "alias": ix.alias}})
	}
	actions = append(actions, map[string]any{"add": map[string]any{"index": n.target, "alias": ix.alias, "is_write_index": true}})
	if err := ix.do(ctx, http.MethodPost, "/_aliases", nil, map[string]any{"actions": actions}, nil); err != nil {
		return fmt.Errorf("search: swap: %w", err)
	}
	for _, name := range old {
		if err := ix.deleteIndex(ctx, name); err != nil {
			return fmt.Errorf("search: swap: drop the old generation: %w", err)
		}
	}
	return nil
}

// Abort deletes a generation that will not be swapped in.
func (ix *Index) Abort(ctx context.Context, next search.Index) error {
	n, err := ix.owned(next)
	if err != nil {
		return err
	}
	if err := ix.deleteIndex(ctx, n.target); err != nil {
		return fmt.Errorf("search: abort: %w", err)
	}
	return nil
}

// deleteIndex deletes a concrete index (one already gone is fine).
func (ix *Index) deleteIndex(ctx context.Context, name string) error {
	err := ix.do(ctx, http.MethodDelete, "/"+name, nil, nil, nil)
	var se *serverError
	if errors.As(err, &se) && se.Status == http.StatusNotFound {
		return nil
	}
	return err
}
