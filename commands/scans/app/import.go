package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	assetapp "github.com/socplatform/soc/commands/assets/app"
	assets "github.com/socplatform/soc/commands/assets/domain"
	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/scans/importers"
	vulnapp "github.com/socplatform/soc/commands/vulns/app"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
)

// DetectBytes is how much of a report format detection looks at.
const DetectBytes = 64 << 10

// ImportScanReport is the command to import one scanner report; Importer.Import handles it and
// answers a Summary.
type ImportScanReport struct {
	// Report is the report's bytes (an upload's spool file, a run's evidence file).
	Report io.Reader
	// Format is "auto" (or empty) to detect the format, else a parser's name ("trivy", …).
	Format string
	// ScanID identifies the import: a UUID; a UUIDv7 is generated when empty. The import's events
	// go to the stream "scans-import-<ScanID>", so a scan id can be imported once.
	ScanID string
	// Actor is copied onto every event.
	Actor string
	// AssetID, when set, is the known asset ("assets-asset-<uuid>") that the findings of a report
	// asset belong to when the report does not identify it well enough to match or register it
	// (a filesystem scan of ".", a SARIF log without version-control provenance). Report assets
	// that do identify themselves are matched or registered as usual.
	AssetID string
	// Progress, when set, is called (from one goroutine at a time) as findings are processed.
	Progress func(done, total int)
}

// ImportStreamID is the stream of a scan import's own events.
func ImportStreamID(scanID string) string { return "scans-import-" + scanID }

// FindingStreamID is the stream of the finding with the given identity key.
func FindingStreamID(identityKey string) string {
	return es.StreamIDFor("vulns", "finding", identityKey)
}

// Import reads one report and records what it means: assets discovered or matched, findings
// opened, seen, reopened, resolved and closed, and the import's own started/completed events.
// A report that cannot be read appends only ScanImportFailed and returns the parser's
// *importers.ParseError (or a *FormatError when the format cannot be told).
func (im *Importer) Import(ctx context.Context, req ImportScanReport) (Summary, error) {
	r := req.Report
	scanID, err := im.validate(&req)
	if err != nil {
		return Summary{}, err
	}
	meta := es.Meta{Actor: req.Actor, CorrelationID: scanID}
	stream := ImportStreamID(scanID)
	start, err := im.beginImport(ctx, scanID)
	if err != nil {
		return Summary{}, err
	}

	head := make([]byte, DetectBytes)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return Summary{}, fmt.Errorf("reading the report: %w", err)
	}
	head = head[:n]
	var parser importers.Parser
	if req.Format == "" || req.Format == "auto" {
		var cands []string
		for _, f := range im.formats {
			if im.parsers[f].Detect(head) {
				cands = append(cands, f)
			}
		}
		if len(cands) != 1 {
			ferr := &FormatError{Candidates: cands, Known: im.Formats()}
			return Summary{}, im.fail(ctx, stream, start.expected, meta, scanID, "", "detect", ferr)
		}
		parser = im.parsers[cands[0]]
	} else {
		parser = im.parsers[req.Format]
	}
	rep, err := parser.Parse(ctx, io.MultiReader(bytes.NewReader(head), r))
	if err != nil {
		if ctx.Err() != nil {
			return Summary{}, err
		}
		return Summary{}, im.fail(ctx, stream, start.expected, meta, scanID, parser.Format(), "parse", err)
	}
	if rep.Format == "" {
		rep.Format = parser.Format()
	}

	if req.AssetID != "" {
		if err := im.sync(ctx); err != nil {
			return Summary{}, err
		}
		if _, _, retired, ok := im.index.Lookup(req.AssetID); !ok || retired {
			return Summary{}, &RequestError{Path: "/asset_id", Reason: "no such live asset: " + req.AssetID}
		}
	}
	sum := Summary{ScanID: scanID, Format: rep.Format, FindingsTotal: len(rep.Findings)}
	for i := range rep.Findings {
		sum.BySeverity.add(severityOf(rep.Findings[i].Severity))
	}
	started := map[string]any{
		"scan_id": scanID, "format": rep.Format, "scanner_name": clip(rep.ScannerName, MaxShort),
		"findings_total": len(rep.Findings), "assets_total": len(rep.Assets),
	}
	if rep.ScannerVersion != "" {
		started["scanner_version"] = clip(rep.ScannerVersion, MaxShort)
	}
	if !rep.StartedAt.IsZero() {
		started["report_started_at"] = rep.StartedAt.UTC()
	}
	if !rep.FinishedAt.IsZero() {
		started["report_finished_at"] = rep.FinishedAt.UTC()
	}
	// A resumed import (a crash interrupted it after ScanImportStarted) does not start twice.
	ended := events.Exact(start.version)
	if !start.resume {
		if _, err := es.Save(ctx, im.store, stream, start.expected, meta, []es.Change{{Type: contracts.TypeScanImportStarted, Data: started}}); err != nil {
			var vc *events.VersionConflictError
			if errors.As(err, &vc) {
				return Summary{}, &AlreadyImportedError{ScanID: scanID}
			}
			return Summary{}, err
		}
		ended = events.Exact(start.version + 1)
	}
	if err := im.run(ctx, rep, scanID, req.AssetID, meta, req.Progress, &sum); err != nil {
		if start.requested && ctx.Err() != nil {
			// An accepted upload stopped by its node's shutdown: it stays running in the store
			// and its node resumes it on the next start.
			return sum, err
		}
		// Record the failure with a context of its own: ctx may be what ended the import.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_, ferr := es.Save(fctx, im.store, stream, ended, meta, []es.Change{{Type: contracts.TypeScanImportFailed,
			Data: map[string]any{"scan_id": scanID, "format": rep.Format, "stage": "import", "reason": clip(err.Error(), 4096)}}})
		if ferr != nil {
			return sum, fmt.Errorf("%w (recording the failure also failed: %v)", err, ferr)
		}
		return sum, err
	}
	if _, err := es.Save(ctx, im.store, stream, ended, meta, []es.Change{{Type: contracts.TypeScanImportCompleted, Data: sum}}); err != nil {
		return sum, err
	}
	return sum, nil
}

func (im *Importer) validate(req *ImportScanReport) (string, error) {
	if req.Report == nil {
		return "", &RequestError{Path: "/report", Reason: "no report to read"}
	}
	if req.Format != "" && req.Format != "auto" {
		if _, ok := im.parsers[req.Format]; !ok {
			return "", &FormatError{Requested: req.Format, Known: im.Formats()}
		}
	}
	if req.AssetID != "" && !assets.IsAssetID(req.AssetID) {
		return "", &RequestError{Path: "/asset_id", Reason: "must be an asset stream id assets-asset-<uuid>"}
	}
	if len(req.Actor) > 256 {
		return "", &RequestError{Path: "/actor", Reason: "longer than 256 bytes"}
	}
	if req.ScanID == "" {
		return uuid.Must(uuid.NewV7()).String(), nil
	}
	u, err := uuid.Parse(req.ScanID)
	if err != nil || u.String() != req.ScanID {
		return "", &RequestError{Path: "/scan_id", Reason: "must be a lower-case hyphenated UUID"}
	}
	return req.ScanID, nil
}

// fail records that a report could not be read (ScanImportFailed is the stream's only event, or
// follows its ScanImportRequested: expected says which) and returns cause.
func (im *Importer) fail(ctx context.Context, stream string, expected events.ExpectedVersion, meta es.Meta, scanID, format, stage string, cause error) error {
	d := map[string]any{"scan_id": scanID, "stage": stage, "reason": clip(cause.Error(), 4096)}
	if format != "" {
		d["format"] = format
	}
	if _, err := es.Save(ctx, im.store, stream, expected, meta, []es.Change{{Type: contracts.TypeScanImportFailed, Data: d}}); err != nil {
		var vc *events.VersionConflictError
		if errors.As(err, &vc) {
			return errors.Join(cause, &AlreadyImportedError{ScanID: scanID})
		}
		return fmt.Errorf("%w (recording the failure also failed: %v)", cause, err)
	}
	return cause
}

// scanTime is when the scan saw its findings: the report's finish (else start) time, unless
// missing or in the future, then now.
func (im *Importer) scanTime(rep *importers.Report) time.Time {
	now := im.now().UTC()
	for _, t := range []time.Time{rep.FinishedAt, rep.StartedAt} {
		if !t.IsZero() && !t.After(now) && t.Year() >= 1990 {
			return t.UTC().Truncate(time.Microsecond)
		}
	}
	return now.Truncate(time.Microsecond)
}

type counter struct {
	mu       sync.Mutex
	sum      *Summary
	done     int
	total    int
	progress func(done, total int)
}

func (c *counter) add(o vulnapp.ScanOutcome, seenPhase bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch o {
	case vulnapp.ScanOpened:
		c.sum.New++
	case vulnapp.ScanSeen:
		c.sum.Unchanged++
	case vulnapp.ScanReopened:
		c.sum.Reopened++
	case vulnapp.ScanResolved:
		c.sum.Resolved++
	case vulnapp.ScanClosed:
		c.sum.Closed++
	}
	if seenPhase {
		c.done++
		if c.progress != nil && (c.done == c.total || c.done%100 == 0) {
			c.progress(c.done, c.total)
		}
	}
}

func (im *Importer) run(ctx context.Context, rep *importers.Report, scanID, fallback string, meta es.Meta, progress func(int, int), sum *Summary) error {
	at := im.scanTime(rep)

	// Assets: resolve every report asset to a known or newly registered asset.
	im.discoverMu.Lock()
	assetOf, err := im.discover(ctx, rep, scanID, fallback, meta, sum)
	im.discoverMu.Unlock()
	if err != nil {
		return err
	}
	scopeSet := map[string]struct{}{}
	for _, id := range assetOf {
		scopeSet[ScopeKey(id, rep.Format)] = struct{}{}
	}
	scopes := make([]string, 0, len(scopeSet))
	for s := range scopeSet {
		scopes = append(scopes, s)
	}
	sort.Strings(scopes)
	unlock := im.lockScopes(scopes)
	defer unlock()
	// Another import of these scopes may have finished while we waited, or another service may
	// have changed a finding: decide on the current state.
	if err := im.sync(ctx); err != nil {
		return err
	}

	var found []vulnapp.ScanFinding
	var already []vulnapp.ScanOutcome // recorded by this scan id's interrupted run
	seen := map[string]struct{}{}
	for i := range rep.Findings {
		f := &rep.Findings[i]
		assetID, ok := assetOf[f.AssetKey]
		if !ok {
			sum.Skipped++
			sum.warn(fmt.Sprintf("finding %q: its asset %q could not be identified", clip(f.Title, 200), clip(f.AssetKey, 200)))
			continue
		}
		if strings.TrimSpace(f.Fingerprint) == "" {
			sum.Skipped++
			sum.warn(fmt.Sprintf("finding %q has no fingerprint", clip(f.Title, 200)))
			continue
		}
		key := IdentityKey(assetID, rep.Format, f.Fingerprint)
		id := FindingStreamID(key)
		if _, dup := seen[id]; dup {
			sum.Skipped++
			sum.warn(fmt.Sprintf("finding %q is listed twice in the report (fingerprint %s)", clip(f.Title, 200), clip(f.Fingerprint, 200)))
			continue
		}
		seen[id] = struct{}{}
		if o, ok := im.recordedBy(id, scanID); ok {
			already = append(already, o)
			continue
		}
		found = append(found, vulnapp.ScanFinding{ID: id, Severity: severityOf(f.Severity), Criticality: im.assetCriticality(assetID),
			Opened: func() contracts.FindingOpened {
				return openedData(f, assetID, ScopeKey(assetID, rep.Format), key, scanID, rep, at)
			}})
	}
	c := &counter{sum: sum, total: len(found) + len(already), progress: progress}
	for _, o := range already {
		c.add(o, true)
	}
	if err := im.findingRec.Seen(ctx, meta, scanID, at, found, func(o vulnapp.ScanOutcome) { c.add(o, true) }); err != nil {
		return err
	}

	var missing []string
	for _, s := range scopes {
		for _, id := range im.scopeMembers(s) {
			if _, ok := seen[id]; ok {
				continue
			}
			if o, ok := im.recordedBy(id, scanID); ok {
				c.add(o, false)
				continue
			}
			missing = append(missing, id)
		}
	}
	return im.findingRec.Missed(ctx, meta, scanID, at, missing, func(o vulnapp.ScanOutcome) { c.add(o, false) })
}

// discover maps each report asset key to an asset stream id, registering assets the platform
// does not know and recording identifiers it had not seen on those it does. Callers hold
// discoverMu.
func (im *Importer) discover(ctx context.Context, rep *importers.Report, scanID, fallback string, meta es.Meta, sum *Summary) (map[string]string, error) {
	if err := im.sync(ctx); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(rep.Assets))
	for i := range rep.Assets {
		ra := rep.Assets[i]
		if _, dup := out[ra.Key]; dup {
			continue
		}
		p := im.index.Plan(sighting(ra))
		if !p.Matched() {
			id, evs, err := "", []events.Envelope(nil), p.Problem
			if err == nil {
				id, evs, err = im.assetReg.RegisterDiscovered(ctx, meta, assets.RegisterAsset{Kind: p.Kind, Name: p.Name, Identifiers: p.Identifiers, ScanID: scanID})
			}
			var refused *assetapp.RefusedError
			if err != nil && (p.Problem != nil || errors.As(err, &refused)) {
				if fallback != "" {
					sum.AssetsMatched++
					out[ra.Key] = fallback
					continue
				}
				sum.warn(fmt.Sprintf("asset %q not registered (pass asset_id to attach its findings to a known asset): %v", clip(ra.Key, 200), err))
				continue
			}
			if err != nil {
				return nil, err
			}
			if err := im.applyAssets(evs); err != nil {
				return nil, err
			}
			sum.AssetsDiscovered++
			out[ra.Key] = id
			continue
		}
		sum.AssetsMatched++
		out[ra.Key] = p.AssetID
		if p.New.IsEmpty() {
			continue
		}
		evs, err := im.assetReg.ObserveIdentifiers(ctx, meta, p.AssetID, scanID, p.New)
		var refused *assetapp.RefusedError
		if errors.As(err, &refused) {
			sum.warn(fmt.Sprintf("asset %s: new identifiers not recorded: %v", p.AssetID, err))
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := im.applyAssets(evs); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// sighting is a report asset in the assets context's words.
func sighting(ra importers.Asset) assets.Sighting {
	return assets.Sighting{Kind: assets.AssetKind(ra.Kind), Name: ra.Name, ImageName: ra.ImageName, IPs: ra.IPs,
		Hostnames: ra.Hostnames, MACs: ra.MACs, ImageDigest: ra.ImageDigest, PURL: ra.PURL, RepoURL: ra.RepoURL,
		BaseURL: ra.BaseURL, CloudID: ra.CloudID}
}

// applyAssets applies to the lookups the asset events the registry has just appended.
func (im *Importer) applyAssets(evs []events.Envelope) error {
	for i := range evs {
		if err := im.applyAsset(&evs[i]); err != nil {
			return err
		}
	}
	return nil
}
