package scans

import (
	"encoding/json"
	"errors"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections/readkit"
	"github.com/socplatform/soc/schemas/contracts"
)

func isScanEvent(t string) bool {
	return t == contracts.TypeScanImportStarted || t == contracts.TypeScanImportCompleted || t == contracts.TypeScanImportFailed
}

type scanEventData struct {
	ScanID           string           `json:"scan_id"`
	Format           string           `json:"format"`
	ScannerName      string           `json:"scanner_name"`
	ScannerVersion   string           `json:"scanner_version"`
	FindingsTotal    *int64           `json:"findings_total"`
	AssetsTotal      *int64           `json:"assets_total"`
	BySeverity       map[string]int64 `json:"by_severity"`
	New              int64            `json:"new"`
	Unchanged        int64            `json:"unchanged"`
	Reopened         int64            `json:"reopened"`
	Resolved         int64            `json:"resolved"`
	Closed           int64            `json:"closed"`
	Skipped          int64            `json:"skipped"`
	AssetsDiscovered int64            `json:"assets_discovered"`
	AssetsMatched    int64            `json:"assets_matched"`
	Warnings         []string         `json:"warnings"`
	Stage            string           `json:"stage"`
	Reason           string           `json:"reason"`

	// The accounting ScanImportCompleted v2 adds; nil when the event predates it.
	Parsed         *int64 `json:"parsed"`
	Stored         *int64 `json:"stored"`
	Suppressed     *int64 `json:"suppressed"`
	DuplicateCount *int64 `json:"duplicate_count"`
	Ignored        *int64 `json:"ignored"`
	HeldBack       *int64 `json:"held_back"`
	AssetsWeak     *int64 `json:"assets_weak"`
}

// scanIDOf keys a scans row by the scan id every scans event carries.
var scanIDOf = readkit.DataKey(func(d *struct {
	ScanID string `json:"scan_id"`
}) string {
	return d.ScanID
}, "scan event without scan_id")

// applyScan folds one scans event into s (nil before the stream's first event). A failed import
// that could not even be read has ScanImportFailed as its only event: it starts the row too.
func applyScan(s *Scan, e *events.Envelope) (*Scan, error) {
	var d scanEventData
	if err := json.Unmarshal(e.Data, &d); err != nil {
		return nil, err
	}
	if d.ScanID == "" {
		return nil, errors.New("scan event without scan_id")
	}
	n := Scan{ID: d.ScanID, StreamID: e.StreamID, Status: "running", Actor: e.Actor, StartedAt: readkit.EventTime(e)}
	if s != nil {
		n = *s
	}
	switch e.Type {
	case contracts.TypeScanImportStarted:
		n.Format, n.Scanner, n.ScannerVersion, n.Status = d.Format, d.ScannerName, d.ScannerVersion, "running"
		n.StartedAt, n.Actor = readkit.EventTime(e), e.Actor
		if d.FindingsTotal != nil {
			n.FindingsTotal = *d.FindingsTotal
		}
		if d.AssetsTotal != nil {
			n.AssetsTotal = *d.AssetsTotal
		}
	case contracts.TypeScanImportCompleted:
		n.Status, n.FinishedAt = "completed", readkit.StoredPtr(readkit.EventTime(e))
		if d.Format != "" {
			n.Format = d.Format
		}
		if d.FindingsTotal != nil {
			n.FindingsTotal = *d.FindingsTotal
		}
		n.BySeverity = d.BySeverity
		n.Outcome = map[string]int64{
			"new": d.New, "unchanged": d.Unchanged, "reopened": d.Reopened, "resolved": d.Resolved,
			"closed": d.Closed, "skipped": d.Skipped, "assets_discovered": d.AssetsDiscovered, "assets_matched": d.AssetsMatched,
		}
		for k, v := range map[string]*int64{"parsed": d.Parsed, "stored": d.Stored, "suppressed": d.Suppressed,
			"duplicate_count": d.DuplicateCount, "ignored": d.Ignored, "held_back": d.HeldBack, "assets_weak": d.AssetsWeak} {
			if v != nil {
				n.Outcome[k] = *v
			}
		}
		n.Warnings = readkit.NonEmpty(d.Warnings)
	case contracts.TypeScanImportFailed:
		n.Status, n.FinishedAt = "failed", readkit.StoredPtr(readkit.EventTime(e))
		if d.Format != "" {
			n.Format = d.Format
		}
		n.Error = &ScanError{Stage: d.Stage, Reason: d.Reason}
	default:
		return s, nil
	}
	n.Version = e.Version
	return &n, nil
}
