package elastic

import (
	"encoding/json"
	"time"

	"github.com/socplatform/soc/projections/search"
)

// The analysis every concrete index is created with.
const (
	// textAnalyzer splits text at every rune that is neither a letter nor a digit and lower-cases
	// the tokens: search.Tokens, the rule every backend shares (no stemming, no stop words).
	textAnalyzer = "soc_text"
	// lowerNormalizer makes the keyword fields' exact matches case-insensitive (term queries on
	// such a field normalise their value the same way).
	lowerNormalizer = "soc_lower"
)

// ignoreAbove keeps a keyword under Lucene's 32,766-byte term limit (4 bytes a rune at most):
// a longer value is kept in _source but not indexed, rather than failing its document.
const ignoreAbove = 8191

// freeTextFields are the analysed fields a free-text clause searches: title, text, the asset's
// name and the text subfields of hostnames, CVEs, packages, team, environment and tags.
var freeTextFields = []string{"title", "text", "asset_name", "hostnames.text", "cves.text",
	"packages.text", "team.text", "environment.text", "tags.text"}

// facetField is the field a facet aggregates: the value as written (its keyword without the
// lower-case normalizer), so that facet values read as the documents spell them.
func facetField(f string) string { return f + ".raw" }

// indexBody is the settings and mappings of a concrete index.
func indexBody() map[string]any {
	kw := func() map[string]any {
		return map[string]any{"type": "keyword", "normalizer": lowerNormalizer, "ignore_above": ignoreAbove}
	}
	raw := map[string]any{"type": "keyword", "ignore_above": ignoreAbove}
	text := map[string]any{"type": "text", "analyzer": textAnalyzer}
	// withSub adds subfields to a field mapping.
	withSub := func(m map[string]any, sub map[string]any) map[string]any { m["fields"] = sub; return m }
	facet := func() map[string]any { return withSub(kw(), map[string]any{"raw": raw}) }
	free := func() map[string]any { return withSub(kw(), map[string]any{"text": text}) }
	props := map[string]any{
		"id":            raw,
		"kind":          facet(),
		"version":       map[string]any{"type": "long"},
		"title":         map[string]any{"type": "text", "analyzer": textAnalyzer},
		"title_sort":    raw,
		"text":          text,
		"at":            map[string]any{"type": "date"},
		"at_sort":       raw,
		"severity":      facet(),
		"severity_rank": map[string]any{"type": "integer"},
		"status":        facet(),
		"cves":          free(),
		"cwes":          kw(),
		"packages":      free(),
		"kev":           map[string]any{"type": "boolean"},
		"cvss":          map[string]any{"type": "double"},
		"epss":          map[string]any{"type": "double"},
		"scanner":       facet(),
		"asset_id":      kw(),
		"asset_name":    withSub(map[string]any{"type": "text", "analyzer": textAnalyzer}, map[string]any{"kw": kw()}),
		"hostnames":     free(),
		"ips":           map[string]any{"type": "ip", "ignore_malformed": true},
		"team":          withSub(kw(), map[string]any{"raw": raw, "text": text}),
		"environment":   withSub(kw(), map[string]any{"raw": raw, "text": text}),
		"asset_kind":    facet(),
		"tags":          free(),
		"actor":         kw(),
		"event_type":    kw(),
		"stream_id":     raw,
		// The fold's state is kept for Load, never indexed.
		"state": map[string]any{"type": "object", "enabled": false},
		// The meta document's position.
		"position": map[string]any{"type": "long"},
	}
	return map[string]any{
		"settings": map[string]any{
			// One shard: facet counts are exact and scores do not depend on how documents spread.
			"number_of_shards":     1,
			"auto_expand_replicas": "0-1",
			"analysis": map[string]any{
				"tokenizer": map[string]any{"soc_tokens": map[string]any{"type": "pattern", "pattern": `[^\p{L}\p{N}]+`}},
				"analyzer": map[string]any{textAnalyzer: map[string]any{
					"type": "custom", "tokenizer": "soc_tokens", "filter": []string{"lowercase"}}},
				"normalizer": map[string]any{lowerNormalizer: map[string]any{
					"type": "custom", "filter": []string{"lowercase"}}},
			},
		},
		"mappings": map[string]any{
			// Fields a later Doc gains stay in _source without changing the mapping.
			"dynamic":    false,
			"properties": props,
		},
	}
}

// atSortLayout renders At so that the strings sort as the instants do, to the nanosecond (a
// date field keeps milliseconds; years 0001-9999 have four digits).
const atSortLayout = "2006-01-02T15:04:05.000000000Z"

// source is a document as stored: the Doc and the fields derived for sorting, absent where
// search.CompareDocs counts the value as missing (sorted last).
type source struct {
	search.Doc
	SeverityRank int    `json:"severity_rank,omitempty"`
	AtSort       string `json:"at_sort,omitempty"`
	TitleSort    string `json:"title_sort,omitempty"` // by bytes, as written
}

func newSource(d search.Doc) source {
	s := source{Doc: d, SeverityRank: search.SeverityRank(d.Severity), TitleSort: d.Title}
	if !d.At.IsZero() {
		s.AtSort = d.At.UTC().Format(atSortLayout)
	}
	return s
}

// metaID is the id of the document that holds the position (see the package doc); metaKind is
// its kind, which no search admits.
const (
	metaID   = "soc.meta.position"
	metaKind = "meta"
)

type metaSource struct {
	Kind     string `json:"kind"`
	Position int64  `json:"position"`
	At       string `json:"at"`
}

func newMeta(position int64) metaSource {
	return metaSource{Kind: metaKind, Position: position, At: time.Now().UTC().Format(time.RFC3339Nano)}
}

// decodeDoc reads a stored document (its derived fields are dropped by Doc's decoding).
func decodeDoc(raw json.RawMessage) (search.Doc, error) {
	var d search.Doc
	err := json.Unmarshal(raw, &d)
	return d, err
}
