// Package search is the search read model: one index of documents — assets, findings, CVEs and
// the audit trail (every event) — that the search box (GET /v1/search) queries with the
// language of package query.
//
// This file is the contract between the model's backends and its readers: the documents, the
// request and its answer, and the Index port every backend implements. Three backends answer
// it with the same documents for the same query (the suite in searchtest checks that):
// Elasticsearch and OpenSearch (package search/elastic) and the embedded default on SQLite FTS5
// (package search/fts). Match (match.go) is the reference semantics of a query over a document,
// written in plain Go: the suite's oracle.
//
// # From the log
//
// Documents are folded from the log by Fold (fold.go), which reuses the read models' own
// appliers (projections/vulns' ApplyFinding and ApplyCVE, projections/assets' ApplyAsset): a
// finding's status, severity, KEV or EPSS here is the one the findings list shows. A finding
// document carries its asset's name, hostnames, addresses, team, environment, kind and tags
// (search needs them in one document); when an asset changes, Fold rewrites its findings'
// documents. Each document keeps the fold's state (Doc.State) so the next batch continues from
// what the index holds: the index is its own checkpoint, with the position stored beside it in
// the same write.
//
// # Versions
//
// A document's Version is the version of its own stream (a finding's, an asset's, a CVE's); an
// audit event's is 1. Backends write with "external greater-or-equal" semantics: a document
// older than the one indexed is dropped, an equal one replaces it (an asset change re-writes
// its findings at their unchanged version), so a redelivered batch changes nothing.
package search

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/socplatform/soc/projections/ownership"
	"github.com/socplatform/soc/projections/search/query"
)

// Kind is a document's kind.
type Kind string

const (
	KindFinding Kind = "finding"
	KindAsset   Kind = "asset"
	KindCVE     Kind = "cve"
	KindEvent   Kind = "event" // the audit trail: one document per event
)

// Kinds lists every kind.
var Kinds = []Kind{KindFinding, KindAsset, KindCVE, KindEvent}

// Doc is one searchable document. Which fields a kind fills is said beside each; empty fields
// match no field operator.
type Doc struct {
	ID      string    `json:"id"` // stream id (finding, asset), CVE id, event id
	Kind    Kind      `json:"kind"`
	Version int64     `json:"version"`
	Title   string    `json:"title"`          // finding title, asset name, CVE id, event type
	Text    string    `json:"text,omitempty"` // finding description and remediation, asset description, CVE description, event summary
	At      time.Time `json:"at"`             // last change (finding/asset updated_at, CVE last modified, event occurred_at)

	Severity string   `json:"severity,omitempty"` // finding; CVE (from its CVSS score, NVD's bands)
	Status   string   `json:"status,omitempty"`   // finding, asset
	CVEs     []string `json:"cves,omitempty"`     // finding; CVE (its own id)
	CWEs     []string `json:"cwes,omitempty"`     // finding, CVE
	Packages []string `json:"packages,omitempty"` // finding: PackageNames of its component
	KEV      bool     `json:"kev"`                // finding, CVE
	CVSS     *float64 `json:"cvss,omitempty"`     // finding, CVE
	EPSS     *float64 `json:"epss,omitempty"`     // finding, CVE
	Scanner  string   `json:"scanner,omitempty"`  // finding: its format

	// The asset (an asset's own; a finding's asset's; an event's about an asset or finding, when known).
	AssetID     string   `json:"asset_id,omitempty"`
	AssetName   string   `json:"asset_name,omitempty"`
	Hostnames   []string `json:"hostnames,omitempty"`
	IPs         []string `json:"ips,omitempty"` // canonical text (net/netip)
	Team        string   `json:"team,omitempty"`
	Environment string   `json:"environment,omitempty"`
	AssetKind   string   `json:"asset_kind,omitempty"`
	Tags        []string `json:"tags,omitempty"`

	// Events only.
	Actor     string `json:"actor,omitempty"`
	EventType string `json:"event_type,omitempty"`
	StreamID  string `json:"stream_id,omitempty"`

	// State is the fold's state for the next batch (never searched, never returned by the API).
	State json.RawMessage `json:"state,omitempty"`
}

// Sort orders the hits.
type Sort struct {
	Field string `json:"field"` // SortRelevance or one of SortFields
	Desc  bool   `json:"desc"`
}

// SortRelevance orders by score (backend-specific); ties and everything else by ID.
const SortRelevance = "relevance"

// SortFields are the fields a request may sort by. "severity" sorts by rank (critical first
// when descending); absent values sort last in both directions; ties break by ID ascending.
var SortFields = []string{SortRelevance, "at", "severity", "cvss", "epss", "title"}

// FacetFields are the facets a request may ask for: Doc fields severity, status, asset_kind,
// scanner, team, environment, kind.
var FacetFields = []string{"severity", "status", "asset_kind", "scanner", "team", "environment", "kind"}

// Request is one search.
type Request struct {
	Query query.Query
	// Kinds restricts the documents' kinds (empty: every kind but KindEvent unless Audit).
	Kinds []Kind
	// Audit admits audit-trail documents (the caller may read the audit trail).
	Audit bool
	// Scope restricts findings, assets and events to those of these teams (nil: every team; an
	// event with no team is visible only unscoped); CVE documents are visible to every scope.
	Scope  ownership.Scope
	Facets []string // of FacetFields
	// FacetSize bounds each facet's values (default 20): the most frequent, ties by value.
	FacetSize int
	Sort      Sort
	Limit     int    // 1..MaxLimit (default 20)
	Cursor    string // from a previous Result.Next, for the same request
	Highlight bool
}

// MaxLimit bounds a page.
const MaxLimit = 200

// Result is a page of hits.
type Result struct {
	Hits []Hit `json:"hits"`
	// Total counts every document matching the request (all pages).
	Total  int64                   `json:"total"`
	Facets map[string][]FacetValue `json:"facets,omitempty"`
	Next   string                  `json:"next_cursor,omitempty"` // "" on the last page
}

// Hit is one document found.
type Hit struct {
	Doc   Doc     `json:"doc"` // State emptied
	Score float64 `json:"score,omitempty"`
	// Highlights maps a field ("title", "text") to fragments of it in which every matched word
	// is wrapped in <mark>…</mark> (HTML-escaped otherwise).
	Highlights map[string][]string `json:"highlights,omitempty"`
}

// FacetValue is one value of a facet and the number of matching documents that have it.
type FacetValue struct {
	Value string `json:"value"`
	Count int64  `json:"count"`
}

// Index is the port every backend implements.
type Index interface {
	// Load returns the documents with these ids (absent ones are absent from the map).
	Load(ctx context.Context, ids []string) (map[string]Doc, error)
	// FindingsOf returns the finding documents whose AssetID is one of assetIDs.
	FindingsOf(ctx context.Context, assetIDs []string) ([]Doc, error)
	// Write stores docs (external greater-or-equal versions: an older document than the
	// indexed one is ignored) and position, atomically where the backend can, and so that the
	// documents are searchable once it returns (refresh).
	Write(ctx context.Context, docs []Doc, position int64) error
	// Position is the highest position written (0 for an empty index).
	Position(ctx context.Context) (int64, error)
	// Search answers a request.
	Search(ctx context.Context, r Request) (Result, error)
}

// Errors a backend returns (wrapped).
var (
	ErrUnavailable = errors.New("search backend unavailable")
	ErrBadCursor   = errors.New("invalid cursor")
)

// ParamError is a request parameter the model cannot answer for (the query API maps it to 400
// problem+json naming Param).
type ParamError struct {
	Param  string
	Reason string
}

func (e *ParamError) Error() string { return e.Param + ": " + e.Reason }

// Generations is a backend that can build a new index beside the live one and swap it in
// atomically (soc replay --projection search): searches never see a half-built index, and the
// live projector's writes keep going to whichever index is live.
type Generations interface {
	// Begin creates a new, empty index beside the live one and returns it (it is not live).
	Begin(ctx context.Context) (Index, error)
	// Swap makes next live atomically and drops the index it replaced.
	Swap(ctx context.Context, next Index) error
	// Abort drops a half-built index (after a failed rebuild).
	Abort(ctx context.Context, next Index) error
}
