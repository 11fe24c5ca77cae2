package scans

import (
	"time"

	"github.com/socplatform/soc/projections/readkit"
)

// Scan is a scan and its import(s).
type Scan struct {
	ID             string           `json:"id"` // scan id as given to the import
	StreamID       string           `json:"stream_id"`
	Format         string           `json:"format,omitempty"`
	Scanner        string           `json:"scanner,omitempty"`
	ScannerVersion string           `json:"scanner_version,omitempty"`
	Status         string           `json:"status"` // running | completed | failed
	Actor          string           `json:"actor,omitempty"`
	StartedAt      time.Time        `json:"started_at"`
	FinishedAt     *time.Time       `json:"finished_at,omitempty"`
	FindingsTotal  int64            `json:"findings_total"`
	AssetsTotal    int64            `json:"assets_total"`
	BySeverity     map[string]int64 `json:"by_severity,omitempty"`
	// Outcome counts of a completed import: new, unchanged, reopened, resolved, closed, skipped,
	// assets_discovered, assets_matched; and, from imports recorded since ScanImportCompleted v2,
	// the job summary's parsed, stored, suppressed, duplicate_count, ignored, held_back and
	// assets_weak (absent for older imports: unknown, not zero).
	Outcome  map[string]int64 `json:"outcome,omitempty"`
	Warnings []string         `json:"warnings,omitempty"`
	Error    *ScanError       `json:"error,omitempty"`
	Version  int64            `json:"version"`
}

// ScanError is why an import failed.
type ScanError struct {
	Stage  string `json:"stage"`
	Reason string `json:"reason"`
}

// Query filters scans.
type Query struct {
	readkit.List
	Format string
	Status string
	Actor  string
	From   time.Time // started at or after
	To     time.Time // started before
}

// Sorts are the sort fields of scans; the first is the default (descending).
var Sorts = []string{"started_at", "findings_total", "id"}
