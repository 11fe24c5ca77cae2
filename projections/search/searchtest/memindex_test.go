package searchtest

import (
	"context"
	"encoding/base64"
	"fmt"
	"html"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/socplatform/soc/projections/search"
	"github.com/socplatform/soc/projections/search/query"
)

// memIndex is an in-memory search.Index built on search.Answer: the backend the suite must
// pass as it is, and fail once broken (flaws).
type memIndex struct {
	mu       sync.Mutex
	docs     map[string]search.Doc
	position int64
	flaws    flaws
}

// flaws are the ways a backend can be broken that the suite must catch.
type flaws struct {
	ignoreNegation, ignoreScope, ignoreVersions, lastPosition, lenientCursor, rawHighlights,
	stateInHits, eventsAsFindings, descAsReversedAsc bool
}

func newMemIndex(f flaws) *memIndex { return &memIndex{docs: map[string]search.Doc{}, flaws: f} }

func (m *memIndex) Load(_ context.Context, ids []string) (map[string]search.Doc, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]search.Doc{}
	for _, id := range ids {
		if d, ok := m.docs[id]; ok {
			out[id] = d
		}
	}
	return out, nil
}

func (m *memIndex) FindingsOf(_ context.Context, assetIDs []string) ([]search.Doc, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []search.Doc
	for _, d := range m.docs {
		if (d.Kind == search.KindFinding || m.flaws.eventsAsFindings && d.Kind == search.KindEvent) && slices.Contains(assetIDs, d.AssetID) {
			out = append(out, d)
		}
	}
	return out, nil
}

func (m *memIndex) Write(_ context.Context, docs []search.Doc, position int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, d := range docs {
		if old, ok := m.docs[d.ID]; ok && old.Version > d.Version && !m.flaws.ignoreVersions {
			continue
		}
		m.docs[d.ID] = d
	}
	if position > m.position || m.flaws.lastPosition {
		m.position = position
	}
	return nil
}

func (m *memIndex) Position(context.Context) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.position, nil
}

func (m *memIndex) Search(_ context.Context, r search.Request) (search.Result, error) {
	r, err := search.CheckRequest(r)
	if err != nil {
		return search.Result{}, err
	}
	offset, err := m.decodeCursor(r.Cursor)
	if err != nil {
		return search.Result{}, err
	}
	if m.flaws.ignoreNegation {
		r.Query.Clauses = slices.Clone(r.Query.Clauses)
		for i := range r.Query.Clauses {
			r.Query.Clauses[i].Negate = false
		}
	}
	if m.flaws.ignoreScope {
		r.Scope = nil
	}
	m.mu.Lock()
	docs := make([]search.Doc, 0, len(m.docs))
	for _, d := range m.docs {
		docs = append(docs, d)
	}
	m.mu.Unlock()
	all, facets := search.Answer(docs, r)
	if m.flaws.descAsReversedAsc && r.Sort.Desc {
		asc := r
		asc.Sort.Desc = false
		all, _ = search.Answer(docs, asc)
		slices.Reverse(all) // ties by id descending, missing values first
	}
	res := search.Result{Total: int64(len(all)), Facets: facets}
	end := min(len(all), offset+r.Limit)
	if end < len(all) {
		res.Next = base64.RawURLEncoding.EncodeToString([]byte("o" + strconv.Itoa(end)))
	}
	words := queryWords(r.Query)
	for _, d := range all[min(offset, len(all)):end] {
		if !m.flaws.stateInHits {
			d.State = nil
		}
		h := search.Hit{Doc: d}
		if r.Highlight && len(words) > 0 {
			for field, value := range map[string]string{"title": d.Title, "text": d.Text} {
				if frag, ok := m.highlight(value, words); ok {
					if h.Highlights == nil {
						h.Highlights = map[string][]string{}
					}
					h.Highlights[field] = []string{frag}
				}
			}
		}
		res.Hits = append(res.Hits, h)
	}
	return res, nil
}

func (m *memIndex) decodeCursor(c string) (int, error) {
	if c == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil && strings.HasPrefix(string(b), "o") {
		if n, err := strconv.Atoi(string(b[1:])); err == nil && n >= 0 {
			return n, nil
		}
	}
	if m.flaws.lenientCursor {
		return 0, nil
	}
	return 0, fmt.Errorf("%w: %q", search.ErrBadCursor, c)
}

// highlight marks every token of s that is one of words, escaping the rest.
func (m *memIndex) highlight(s string, words []string) (string, bool) {
	esc := html.EscapeString
	if m.flaws.rawHighlights {
		esc = func(s string) string { return s }
	}
	isToken := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }
	var b strings.Builder
	marked := false
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isToken(r) {
			b.WriteString(esc(s[i : i+n]))
			i += n
			continue
		}
		j := i
		for j < len(s) {
			r, n := utf8.DecodeRuneInString(s[j:])
			if !isToken(r) {
				break
			}
			j += n
		}
		if tok := s[i:j]; slices.Contains(words, strings.ToLower(tok)) {
			b.WriteString("<mark>" + esc(tok) + "</mark>")
			marked = true
		} else {
			b.WriteString(esc(tok))
		}
		i = j
	}
	return b.String(), marked
}

func TestMemIndexPasses(t *testing.T) {
	Run(t, func(t *testing.T) search.Index { return newMemIndex(flaws{}) })
}

// TestSuiteCatches proves the suite can fail: each flaw makes the check meant for it fail.
func TestSuiteCatches(t *testing.T) {
	for _, c := range []struct {
		check string
		flaws flaws
	}{
		{"queries", flaws{ignoreNegation: true}},
		{"visibility", flaws{ignoreScope: true}},
		{"versions", flaws{ignoreVersions: true}},
		{"versions", flaws{lastPosition: true}},
		{"paging", flaws{lenientCursor: true}},
		{"highlight", flaws{rawHighlights: true}},
		{"queries", flaws{stateInHits: true}},
		{"load", flaws{eventsAsFindings: true}},
		{"sorting", flaws{descAsReversedAsc: true}},
	} {
		failures := Check(t, func(t *testing.T) search.Index { return newMemIndex(c.flaws) })
		if !slices.ContainsFunc(failures, func(f string) bool { return strings.HasPrefix(f, c.check+": ") }) {
			t.Errorf("flaws %+v: no failure of check %q among %d: %q", c.flaws, c.check, len(failures), failures)
		}
	}
}

// TestSuiteQueriesUseTheLanguage keeps the suite's ASTs within what the parser can produce.
func TestSuiteQueriesUseTheLanguage(t *testing.T) {
	for _, w := range slices.Concat(queries(), visibility(), facetRequests()) {
		if len(w.r.Query.Clauses) > query.MaxClauses {
			t.Errorf("%s: %d clauses", w.name, len(w.r.Query.Clauses))
		}
		for _, c := range w.r.Query.Clauses {
			if c.Field != query.FieldText && !slices.Contains(query.Fields, c.Field) {
				t.Errorf("%s: unknown field %q", w.name, c.Field)
			}
			if c.Phrase && c.Field != query.FieldText || c.Op != query.OpEq && c.Field != query.FieldCVSS && c.Field != query.FieldEPSS {
				t.Errorf("%s: clause %+v the parser cannot produce", w.name, c)
			}
		}
	}
}
