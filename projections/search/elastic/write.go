package elastic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/socplatform/soc/projections/search"
)

// maxBulkBytes bounds one _bulk request's body (servers refuse bodies over http.max_content_length,
// 100 MB by default, and large bodies only add latency).
const maxBulkBytes = 5 << 20

// Write indexes docs with their versions (external greater-or-equal) and then position, in
// _bulk requests of at most maxBulkBytes; the last one refreshes the index, so that every
// document is searchable when Write returns. A document older than the indexed one is ignored;
// any other refused item fails the write, naming it. The position is written last: a failed
// write leaves the previous position, and the batch is written again.
func (ix *Index) Write(ctx context.Context, docs []search.Doc, position int64) error {
	var chunks [][]byte
	var buf bytes.Buffer
	add := func(id string, version int64, src any) error {
		line, err := bulkItem(id, version, src)
		if err != nil {
			return err
		}
		if buf.Len() > 0 && buf.Len()+len(line) > ix.bulkBytes {
			chunks = append(chunks, bytes.Clone(buf.Bytes()))
			buf.Reset()
		}
		buf.Write(line)
		return nil
	}
	for _, d := range docs {
		if d.ID == "" || d.ID == metaID {
			return fmt.Errorf("search: write: document id %q is reserved or empty", d.ID)
		}
		if err := add(d.ID, d.Version, newSource(d)); err != nil {
			return err
		}
	}
	if position > 0 {
		if err := add(metaID, position, newMeta(position)); err != nil {
			return err
		}
	}
	if buf.Len() > 0 {
		chunks = append(chunks, buf.Bytes())
	}
	for i, c := range chunks {
		var q url.Values
		if i == len(chunks)-1 {
			// A refresh now, rather than wait_for (which waits for the next periodic refresh, up
			// to a second): the writer's batches are what makes a change searchable.
			q = url.Values{"refresh": {"true"}}
		}
		if err := ix.bulk(ctx, c, q); err != nil {
			return err
		}
	}
	return nil
}

// bulkItem is one index action and its source, as _bulk lines.
func bulkItem(id string, version int64, src any) ([]byte, error) {
	action := map[string]any{"index": map[string]any{"_id": id, "version": version, "version_type": "external_gte"}}
	a, err := json.Marshal(action)
	if err != nil {
		return nil, err
	}
	s, err := json.Marshal(src)
	if err != nil {
		return nil, fmt.Errorf("search: write %s: %w", id, err)
	}
	line := make([]byte, 0, len(a)+len(s)+2)
	line = append(append(append(append(line, a...), '\n'), s...), '\n')
	return line, nil
}

// bulkAnswer is what _bulk answers: per item its status and error.
type bulkAnswer struct {
	Errors bool `json:"errors"`
	Items  []map[string]struct {
		ID     string `json:"_id"`
		Status int    `json:"status"`
		Error  *struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"error"`
	} `json:"items"`
}

// bulk sends one _bulk body and fails on any refused item but a version conflict.
func (ix *Index) bulk(ctx context.Context, body []byte, q url.Values) error {
	var ans bulkAnswer
	if err := ix.do(ctx, http.MethodPost, "/"+ix.target+"/_bulk", q, body, &ans); err != nil {
		return fmt.Errorf("search: bulk write: %w", err)
	}
	if !ans.Errors {
		return nil
	}
	var failed []string
	unavailable := false
	for _, it := range ans.Items {
		for _, r := range it {
			if r.Error == nil || r.Status == http.StatusConflict {
				continue
			}
			if r.Status == http.StatusTooManyRequests || r.Status >= 500 {
				unavailable = true
			}
			failed = append(failed, fmt.Sprintf("%s: %d %s: %s", r.ID, r.Status, r.Error.Type, r.Error.Reason))
		}
	}
	if len(failed) == 0 {
		return nil
	}
	n := len(failed)
	if len(failed) > 5 {
		failed = failed[:5]
	}
	err := fmt.Errorf("search: bulk write: %d documents refused: %s", n, strings.Join(failed, "; "))
	if unavailable {
		err = fmt.Errorf("%w: %w", search.ErrUnavailable, err)
	}
	return err
}

// Position returns the position stored beside the documents (0 when none is).
func (ix *Index) Position(ctx context.Context) (int64, error) {
	var ans struct {
		Found  bool       `json:"found"`
		Source metaSource `json:"_source"`
	}
	err := ix.do(ctx, http.MethodGet, "/"+ix.target+"/_doc/"+metaID, nil, nil, &ans)
	var se *serverError
	if errors.As(err, &se) && se.Status == http.StatusNotFound && se.Type == "" {
		return 0, nil // the index exists, the document does not
	}
	if err != nil {
		return 0, fmt.Errorf("search: position: %w", err)
	}
	return ans.Source.Position, nil
}

// Load returns the documents with these ids, with their state.
func (ix *Index) Load(ctx context.Context, ids []string) (map[string]search.Doc, error) {
	out := make(map[string]search.Doc, len(ids))
	const page = 1000
	for start := 0; start < len(ids); start += page {
		part := ids[start:min(start+page, len(ids))]
		var ans struct {
			Docs []struct {
				Found  bool            `json:"found"`
				Source json.RawMessage `json:"_source"`
				Error  json.RawMessage `json:"error"`
			} `json:"docs"`
		}
		if err := ix.do(ctx, http.MethodPost, "/"+ix.target+"/_mget", nil, map[string]any{"ids": part}, &ans); err != nil {
			return nil, fmt.Errorf("search: load: %w", err)
		}
		for _, d := range ans.Docs {
			if len(d.Error) > 0 {
				return nil, fmt.Errorf("search: load: %s", d.Error)
			}
			if !d.Found {
				continue
			}
			doc, err := decodeDoc(d.Source)
			if err != nil {
				return nil, fmt.Errorf("search: load: %w", err)
			}
			if doc.Kind == metaKind || doc.ID == "" {
				continue
			}
			out[doc.ID] = doc
		}
	}
	return out, nil
}

// findingsPage bounds one page of FindingsOf (and of the asset ids one query names).
const findingsPage = 1000

// FindingsOf returns the finding documents (with their state) of these assets, paging by id.
func (ix *Index) FindingsOf(ctx context.Context, assetIDs []string) ([]search.Doc, error) {
	var out []search.Doc
	for start := 0; start < len(assetIDs); start += findingsPage {
		part := assetIDs[start:min(start+findingsPage, len(assetIDs))]
		var after []json.RawMessage
		for {
			body := map[string]any{
				"size": findingsPage,
				"query": map[string]any{"bool": map[string]any{"filter": []any{
					term("kind", string(search.KindFinding)),
					terms("asset_id", part),
				}}},
				"sort":             []any{map[string]any{"id": "asc"}},
				"track_total_hits": false,
			}
			if after != nil {
				body["search_after"] = after
			}
			ans, err := ix.search(ctx, body)
			if err != nil {
				return nil, fmt.Errorf("search: findings of assets: %w", err)
			}
			for _, h := range ans.Hits.Hits {
				d, err := decodeDoc(h.Source)
				if err != nil {
					return nil, fmt.Errorf("search: findings of assets: %w", err)
				}
				out = append(out, d)
			}
			if len(ans.Hits.Hits) < findingsPage {
				break
			}
			after = ans.Hits.Hits[len(ans.Hits.Hits)-1].Sort
		}
	}
	return out, nil
}
