package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/socplatform/soc/commands/internal/es"
	vulnapp "github.com/socplatform/soc/commands/vulns/app"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
)

// An uploaded report's import is a job with a durable lifecycle on its stream
// scans-import-<scan id>:
//
//	ScanImportRequested  the upload is on the accepting node's disk (spool file, SHA-256, bytes)
//	ScanImportStarted    the report was read and its findings are being recorded
//	ScanImportCompleted | ScanImportFailed
//
// Nothing answers 202 before ScanImportRequested is stored, so an accepted import survives any
// crash: on start the node lists its requested imports that have not ended (PendingImports, a
// lookup kept with the importer's others, so from its snapshot and the events after it) and
// resumes or fails each one. Re-running an import that a crash interrupted converges: the
// Started event is not appended twice, and findings the first run already recorded for this scan
// id are counted, not recorded again (findingState.scan).

// Import states, as ImportStatus and GET /v1/scans/{id}/import report them.
const (
	ImportRequested = "requested"
	ImportRunning   = "running"
	ImportCompleted = "completed"
	ImportFailed    = "failed"
)

// RequestImport is the command recording that an upload was accepted: its report is spooled on
// the disk of the node named by Node.
type RequestImport struct {
	ScanID string // a lower-case UUID; the import's stream must not exist
	Format string // "auto" or a parser's name
	Spool  string // the spool file's name in the node's spool directory
	SHA256 string // hex digest of the spooled bytes
	Bytes  int64
	Node   string // the spool directory's id
	Actor  string
	// Asset and CloseMissing are the upload's options (ImportScanReport's), recorded so that a
	// resumed import runs as the accepted one would have.
	Asset        string
	CloseMissing bool
}

// PendingImport is a requested import that has not ended (requested, or running when the node
// stopped).
type PendingImport struct {
	ScanID, Format, Spool, SHA256, Node, Actor string
	Bytes                                      int64
	Started                                    bool // ScanImportStarted was recorded
	RequestedAt                                time.Time
	Asset                                      string // the upload's options, as RequestImport's
	CloseMissing                               bool
}

// ImportRecord is an import's state folded from its stream.
type ImportRecord struct {
	PendingImport
	State      string
	Requested  bool // the import began with ScanImportRequested (an upload)
	Summary    *Summary
	Stage      string // of a failure
	Reason     string // of a failure
	FinishedAt time.Time
	Version    int64 // the stream's version (0: no such stream)
}

// CheckFormat refuses a format that is neither "auto" nor one the importer reads.
func (im *Importer) CheckFormat(format string) error {
	if format == "auto" {
		return nil
	}
	if _, ok := im.parsers[format]; !ok {
		return &FormatError{Requested: format, Known: im.Formats()}
	}
	return nil
}

// RequestImport appends ScanImportRequested as the first event of the import's stream and
// returns the append's result; the event is in the pending lookup when it returns.
func (im *Importer) RequestImport(ctx context.Context, req RequestImport) (events.AppendResult, error) {
	if err := im.CheckFormat(req.Format); err != nil {
		return events.AppendResult{}, err
	}
	d := contracts.ScanImportRequested{ScanID: req.ScanID, Format: req.Format, Spool: req.Spool, SHA256: req.SHA256, Bytes: int(req.Bytes), Node: req.Node,
		Asset: req.Asset}
	if req.CloseMissing {
		d.CloseMissing = &req.CloseMissing
	}
	stream := ImportStreamID(req.ScanID)
	meta := es.Meta{Actor: req.Actor, CorrelationID: req.ScanID}
	evs, err := es.Envelopes(meta, stream, []es.Change{{Type: contracts.TypeScanImportRequested, Data: d}})
	if err != nil {
		return events.AppendResult{}, err
	}
	res, err := im.store.Append(ctx, stream, events.NoStream, evs)
	if err != nil {
		var vc *events.VersionConflictError
		if errors.As(err, &vc) {
			return res, &AlreadyImportedError{ScanID: req.ScanID}
		}
		return res, err
	}
	evs[0].StreamID, evs[0].Version, evs[0].GlobalPosition = stream, 1, res.LastPosition
	evs[0].RecordedAt = im.now().UTC()
	im.applyImport(&evs[0])
	return res, nil
}

// FailImport ends an import that cannot run (its spool is missing or corrupt) with
// ScanImportFailed at stage import and the reason. An import that has ended already is left as
// it is.
func (im *Importer) FailImport(ctx context.Context, scanID, actor, reason string) error {
	rec, err := im.ImportStatus(ctx, scanID)
	if err != nil {
		return err
	}
	if rec.Version == 0 || rec.State == ImportCompleted || rec.State == ImportFailed {
		return nil
	}
	d := map[string]any{"scan_id": scanID, "stage": "import", "reason": clip(reason, 4096)}
	if rec.Format != "" && rec.Format != "auto" {
		d["format"] = rec.Format
	}
	_, err = es.Save(ctx, im.store, ImportStreamID(scanID), events.Exact(rec.Version), es.Meta{Actor: actor, CorrelationID: scanID},
		[]es.Change{{Type: contracts.TypeScanImportFailed, Data: d}})
	if err == nil {
		im.endPending(scanID)
	}
	return err
}

// ImportStatus folds the import's stream (Version 0: no such import).
func (im *Importer) ImportStatus(ctx context.Context, scanID string) (ImportRecord, error) {
	evs, err := im.store.ReadStream(ctx, ImportStreamID(scanID), events.ReadStreamOptions{})
	if errors.Is(err, events.ErrStreamNotFound) {
		return ImportRecord{}, nil
	}
	if err != nil {
		return ImportRecord{}, err
	}
	rec := ImportRecord{PendingImport: PendingImport{ScanID: scanID}}
	for i := range evs {
		if err := rec.apply(&evs[i]); err != nil {
			return ImportRecord{}, err
		}
	}
	return rec, nil
}

func (r *ImportRecord) apply(e *events.Envelope) error {
	r.Version = e.Version
	switch e.Type {
	case contracts.TypeScanImportRequested:
		var d contracts.ScanImportRequested
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return fmt.Errorf("%s %s: %w", e.Type, e.StreamID, err)
		}
		r.State, r.Requested = ImportRequested, true
		r.PendingImport = PendingImport{ScanID: d.ScanID, Format: d.Format, Spool: d.Spool, SHA256: d.SHA256, Bytes: int64(d.Bytes),
			Node: d.Node, Actor: e.Actor, RequestedAt: e.RecordedAt, Asset: d.Asset, CloseMissing: d.CloseMissing != nil && *d.CloseMissing}
	case contracts.TypeScanImportStarted:
		var d contracts.ScanImportStarted
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return fmt.Errorf("%s %s: %w", e.Type, e.StreamID, err)
		}
		r.State, r.Started = ImportRunning, true
		if r.Format == "" || r.Format == "auto" {
			r.Format = d.Format
		}
	case contracts.TypeScanImportCompleted:
		var s Summary
		if err := json.Unmarshal(e.Data, &s); err != nil {
			return fmt.Errorf("%s %s: %w", e.Type, e.StreamID, err)
		}
		r.State, r.Summary, r.FinishedAt = ImportCompleted, &s, e.RecordedAt
	case contracts.TypeScanImportFailed:
		var d contracts.ScanImportFailed
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return fmt.Errorf("%s %s: %w", e.Type, e.StreamID, err)
		}
		r.State, r.Stage, r.Reason, r.FinishedAt = ImportFailed, string(d.Stage), d.Reason, e.RecordedAt
	}
	return nil
}

// PendingImports lists the imports node accepted that have not ended, oldest first (scan ids are
// UUIDv7s). It reflects the store as of the last Load or sync.
func (im *Importer) PendingImports(node string) []PendingImport {
	im.mu.RLock()
	defer im.mu.RUnlock()
	var out []PendingImport
	for _, p := range im.pending {
		if p.Node == node {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ScanID < out[j].ScanID })
	return out
}

// applyImport keeps the pending lookup current with one event of an import stream.
func (im *Importer) applyImport(e *events.Envelope) {
	switch e.Type {
	case contracts.TypeScanImportRequested:
		var rec ImportRecord
		if rec.apply(e) != nil {
			return // the guard validated it: undecodable data is not an import we can resume
		}
		im.mu.Lock()
		if _, ok := im.pending[rec.ScanID]; !ok {
			im.pending[rec.ScanID] = rec.PendingImport
		}
		im.mu.Unlock()
	case contracts.TypeScanImportStarted:
		id := scanOfImportStream(e.StreamID)
		im.mu.Lock()
		if p, ok := im.pending[id]; ok {
			p.Started = true
			im.pending[id] = p
		}
		im.mu.Unlock()
	case contracts.TypeScanImportCompleted, contracts.TypeScanImportFailed:
		im.endPending(scanOfImportStream(e.StreamID))
	}
}

// endPending drops an import from the pending lookup. $all holds an import's request before
// its end, so replaying it (after a snapshot that already had the end) only re-adds the import
// until its end is met again.
func (im *Importer) endPending(scanID string) {
	im.mu.Lock()
	delete(im.pending, scanID)
	im.mu.Unlock()
}

func scanOfImportStream(stream string) string { return stream[len(importStreamPrefix):] }

// importStart is how Import begins on a scan id's stream: the expected version of its first
// append, and whether a run a crash interrupted is resumed.
type importStart struct {
	expected  events.ExpectedVersion
	resume    bool // Started is recorded: do not append it again
	version   int64
	requested bool // an upload: a cancelled run is left to resume rather than failed
}

func (im *Importer) beginImport(ctx context.Context, scanID string) (importStart, error) {
	rec, err := im.ImportStatus(ctx, scanID)
	if err != nil {
		return importStart{}, err
	}
	st := importStart{expected: events.NoStream, version: rec.Version, requested: rec.Requested}
	switch {
	case rec.Requested && rec.State == ImportRequested:
		st.expected = events.Exact(rec.Version)
	case rec.Requested && rec.State == ImportRunning:
		st.expected, st.resume = events.Exact(rec.Version), true
	}
	// Any other existing stream is an import that ended, or one of the orchestrator's: the
	// NoStream append conflicts and answers AlreadyImportedError, as it always has.
	return st, nil
}

// noteScan remembers which scan last recorded what on a finding, so that a resumed import
// counts what its interrupted run did instead of doing it again. A FindingSeen after the same
// scan's FindingOpened or FindingReopened (a severity change) keeps that outcome.
func (st *findingState) noteScan(e *events.Envelope) error {
	var o vulnapp.ScanOutcome
	switch e.Type {
	case contracts.TypeFindingOpened:
		st.scan, st.outcome = st.agg.LastScanID, vulnapp.ScanOpened
		return nil
	case contracts.TypeFindingSeen:
		if st.scan != st.agg.LastScanID {
			st.scan, st.outcome = st.agg.LastScanID, vulnapp.ScanSeen
		}
		return nil
	case contracts.TypeFindingReopened:
		o = vulnapp.ScanReopened
	case contracts.TypeFindingResolved:
		o = vulnapp.ScanResolved
	case contracts.TypeFindingClosed:
		o = vulnapp.ScanClosed
	default:
		return nil
	}
	var d struct {
		ScanID string `json:"scan_id"`
	}
	if err := json.Unmarshal(e.Data, &d); err != nil {
		return fmt.Errorf("%s %s: %w", e.Type, e.StreamID, err)
	}
	st.scan, st.outcome = d.ScanID, o
	return nil
}

// recordedBy returns what scanID already recorded on the finding (ok false: nothing).
func (im *Importer) recordedBy(id, scanID string) (vulnapp.ScanOutcome, bool) {
	im.mu.RLock()
	defer im.mu.RUnlock()
	st := im.findings[id]
	if st == nil || st.scan != scanID {
		return vulnapp.ScanNone, false
	}
	return st.outcome, true
}
