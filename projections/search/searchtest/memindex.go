package searchtest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/socplatform/soc/projections/search"
)

// MemIndex is an in-memory search.Index built on search.Answer: the backend the suite must
// pass as it is (and fail once broken: flaws), and the index the projector's tests fold into.
// Documents go through JSON on their way in, as a backend stores them, with the port's
// versioning: an older document than the stored one is ignored.
type MemIndex struct {
	mu       sync.Mutex
	docs     map[string]search.Doc
	position int64
	writes   [][]search.Doc // every Write's documents, in order
	flaws    flaws
}

// flaws are the ways a backend can be broken that the suite must catch.
type flaws struct {
	ignoreNegation, ignoreScope, ignoreVersions, lastPosition, lenientCursor, rawHighlights,
	stateInHits, eventsAsFindings, descAsReversedAsc bool
}

// NewMemIndex returns an empty MemIndex.
func NewMemIndex() *MemIndex { return newFlawedIndex(flaws{}) }

func newFlawedIndex(f flaws) *MemIndex { return &MemIndex{docs: map[string]search.Doc{}, flaws: f} }

func (m *MemIndex) Load(_ context.Context, ids []string) (map[string]search.Doc, error) {
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

// FindingsOf returns the findings by id, so that what the projector writes from them is in
// a stable order.
func (m *MemIndex) FindingsOf(_ context.Context, assetIDs []string) ([]search.Doc, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []search.Doc
	for _, id := range slices.Sorted(maps.Keys(m.docs)) {
		d := m.docs[id]
		if (d.Kind == search.KindFinding || m.flaws.eventsAsFindings && d.Kind == search.KindEvent) && slices.Contains(assetIDs, d.AssetID) {
			out = append(out, d)
		}
	}
	return out, nil
}

func (m *MemIndex) Write(_ context.Context, docs []search.Doc, position int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, d := range docs {
		if old, ok := m.docs[d.ID]; ok && old.Version > d.Version && !m.flaws.ignoreVersions {
			continue
		}
		b, err := json.Marshal(d)
		if err != nil {
			return err
		}
		var stored search.Doc
		if err := json.Unmarshal(b, &stored); err != nil {
			return err
		}
		m.docs[d.ID] = stored
	}
	if position > m.position || m.flaws.lastPosition {
		m.position = position
	}
	m.writes = append(m.writes, docs)
	return nil
}

func (m *MemIndex) Position(context.Context) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.position, nil
}

// All returns every document by id.
func (m *MemIndex) All() map[string]search.Doc {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.docs)
}

// Doc returns document id, failing t when it is absent.
func (m *MemIndex) Doc(t testing.TB, id string) search.Doc {
	t.Helper()
	d, ok := m.All()[id]
	if !ok {
		t.Fatalf("no document %s", id)
	}
	return d
}

// Writes returns how many times Write was called.
func (m *MemIndex) Writes() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.writes)
}

// LastWrite returns the ids of the last Write's documents.
func (m *MemIndex) LastWrite() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ids []string
	for _, d := range m.writes[len(m.writes)-1] {
		ids = append(ids, d.ID)
	}
	return ids
}

func (m *MemIndex) Search(_ context.Context, r search.Request) (search.Result, error) {
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

func (m *MemIndex) decodeCursor(c string) (int, error) {
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
func (m *MemIndex) highlight(s string, words []string) (string, bool) {
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
