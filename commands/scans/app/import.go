package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	assetapp "github.com/socplatform/soc/commands/assets/app"
	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/scans/importers"
	vulnapp "github.com/socplatform/soc/commands/vulns/app"
	vulns "github.com/socplatform/soc/commands/vulns/domain"
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
	// Asset, when set, is a known live asset, by id ("assets-asset-<uuid>") or exact name, that
	// the findings of a report asset belong to when the report does not identify it well enough
	// to match or register it (a filesystem scan of ".", a SARIF log without version-control
	// provenance). Report assets that do identify themselves are matched or registered as usual.
	// A report that names no asset (an empty Nuclei report: nothing matched) is a scan of this
	// asset that saw none of its findings (held back unless CloseMissing); without Asset it
	// resolves nothing and says so in a warning. An asset it does not name is an
	// *UnknownAssetError, before anything is written.
	Asset string
	// CloseMissing lets the import resolve the findings of its scopes it did not see even when
	// they are more than Options.MaxCloseShare of a scope, or the report saw nothing of the scope
	// (DefectDojo's close_old_findings). Without it those are held back (Summary.HeldBack).
	CloseMissing bool
	// Progress, when set, is called (from one goroutine at a time) as findings are processed.
	Progress func(done, total int)
}

// importStreamPrefix begins the id of every scan import's own stream.
const importStreamPrefix = "scans-import-"

// ImportStreamID is the stream of a scan import's own events.
func ImportStreamID(scanID string) string { return importStreamPrefix + scanID }

// FindingStreamID is the stream of the finding with the given identity key.
func FindingStreamID(identityKey string) string {
	return es.StreamIDFor("vulns", "finding", identityKey)
}

// Import reads one report and records what it means: assets discovered or matched, findings
// opened, seen, reopened, resolved and closed, and the import's own started/completed events.
// A report that cannot be read appends only ScanImportFailed and returns the parser's
// *importers.ParseError (or a *FormatError when the format cannot be told).
func (im *Importer) Import(ctx context.Context, req ImportScanReport) (Summary, error) {
	scanID, err := im.validate(&req)
	if err != nil {
		return Summary{}, err
	}
	fallback, err := im.resolveAsset(ctx, req.Asset)
	if err != nil {
		return Summary{}, err
	}
	meta := es.Meta{Actor: req.Actor, CorrelationID: scanID}
	stream := ImportStreamID(scanID)
	start, err := im.beginImport(ctx, scanID)
	if err != nil {
		return Summary{}, err
	}

	// Detection and the parsers read UTF-8; a report saved as UTF-16 (PowerShell's `>`) is
	// decoded here, once, for all of them.
	r, err := importers.DecodeUTF16(req.Report)
	if err != nil {
		return Summary{}, fmt.Errorf("reading the report: %w", err)
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
			ferr := detectError(head, cands, im.Formats(), im.emptyIsReport)
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

	sum := Summary{ScanID: scanID, Format: rep.Format, FindingsTotal: len(rep.Findings), Parsed: len(rep.Findings)}
	for _, w := range rep.Warnings {
		sum.warn(rep.Format + " report: " + w)
	}
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
	if err := im.run(ctx, rep, scanID, fallback, req.CloseMissing, meta, req.Progress, &sum); err != nil {
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
	if _, err := es.Save(ctx, im.store, stream, ended, meta, []es.Change{{Type: contracts.TypeScanImportCompleted, Data: sum.completed()}}); err != nil {
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
	if len(req.Asset) > 256 {
		return "", &RequestError{Path: "/asset", Reason: "longer than 256 bytes"}
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

// ResolveAsset returns the live asset ref names, by id or exact name, or an
// *UnknownAssetError: what ImportScanReport.Asset accepts (an endpoint checks it before it
// accepts a report).
func (im *Importer) ResolveAsset(ctx context.Context, ref string) (string, error) {
	if strings.TrimSpace(ref) == "" {
		return "", &UnknownAssetError{Ref: ref, Reason: "empty"}
	}
	return im.resolveAsset(ctx, ref)
}

// resolveAsset returns the live asset ref names, by id or exact name ("" for none).
func (im *Importer) resolveAsset(ctx context.Context, ref string) (string, error) {
	if ref == "" {
		return "", nil
	}
	if err := im.assetReg.CatchUp(ctx); err != nil {
		return "", err
	}
	id, err := im.assetReg.ResolveLive(ref)
	if nl, ok := errors.AsType[*assetapp.NoLiveAssetError](err); ok {
		return "", &UnknownAssetError{Ref: ref, Reason: nl.Reason}
	}
	return id, err
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
	case vulnapp.ScanSuppressedOpened:
		c.sum.New++
		c.sum.Suppressed++
	case vulnapp.ScanSeen:
		c.sum.Unchanged++
	case vulnapp.ScanSuppressedSeen:
		c.sum.Unchanged++
		c.sum.Suppressed++
	case vulnapp.ScanReopened:
		c.sum.Reopened++
	case vulnapp.ScanResolved:
		c.sum.Resolved++
	case vulnapp.ScanClosed:
		c.sum.Closed++
	}
	if seenPhase {
		c.sum.Stored++
		c.done++
		if c.progress != nil && (c.done == c.total || c.done%100 == 0) {
			c.progress(c.done, c.total)
		}
	}
}

func (im *Importer) run(ctx context.Context, rep *importers.Report, scanID, fallback string, closeMissing bool, meta es.Meta, progress func(int, int), sum *Summary) error {
	at := im.scanTime(rep)
	list, err := takeFindings(rep, im.spillAbove)
	if err != nil {
		return err
	}
	defer list.close()

	// Assets: resolve every report asset to a known or newly registered asset.
	assetOf, err := im.discover(ctx, rep, scanID, fallback, meta, sum)
	if err != nil {
		return err
	}
	scanned := slices.Collect(maps.Values(assetOf))
	if len(rep.Assets) == 0 {
		// A report that names no asset (an empty report: the scanner found nothing) has no scope
		// of its own, so it would resolve nothing, silently. With an asset named it is a scan of
		// that asset that saw none of its findings: holdBack keeps them unless closeMissing.
		if fallback != "" {
			scanned = append(scanned, fallback)
		} else {
			sum.warn(fmt.Sprintf("the report names no asset, so it resolves nothing: name the scanned asset (asset, ?asset= or soc import --asset) and pass close_missing=true to resolve that asset's %s findings it did not see", rep.Format))
		}
	}
	// The findings of assets merged into a report's asset are its own: their scopes are its too.
	scopeSet := map[string]struct{}{}
	aliases := map[string][]string{}
	for _, id := range scanned {
		scopeSet[ScopeKey(id, rep.Format)] = struct{}{}
		if _, done := aliases[id]; done {
			continue
		}
		aliases[id] = im.assetReg.Aliases(id)
		for _, a := range aliases[id] {
			scopeSet[ScopeKey(a, rep.Format)] = struct{}{}
		}
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

	a := &attachment{rep: rep, assetOf: assetOf, aliases: aliases}
	if err := im.attach(ctx, list, a, sum); err != nil {
		return err
	}
	c := &counter{sum: sum, total: a.found, progress: progress}
	if err := im.record(ctx, list, a, scanID, at, meta, c); err != nil {
		return err
	}
	// A recorder that stored fewer findings than it was given fails the import before it
	// resolves anything on the strength of it.
	if !sum.AddsUp() {
		return im.incomplete(sum, []string{fmt.Sprintf("the findings recorder stored %d of %d findings", sum.Stored, a.found)}, 1)
	}

	var missing []string
	for _, s := range scopes {
		members := im.scopeMembers(s)
		var gone []string
		for _, id := range members {
			if a.saw(id) {
				continue
			}
			if o, ok := im.recordedBy(id, scanID); ok {
				c.add(o, false)
				continue
			}
			gone = append(gone, id)
		}
		if n, why := im.holdBack(s, gone, len(members)-len(gone), closeMissing); n > 0 {
			// Nothing of the scope is resolved or closed: a partial close would be as wrong.
			sum.HeldBack += n
			sum.HeldBackReason = why
			sum.warn(why)
			continue
		}
		missing = append(missing, gone...)
	}
	return im.findingRec.Missed(ctx, meta, scanID, at, missing, func(o vulnapp.ScanOutcome) { c.add(o, false) })
}

// attachment is what attach learns of a report's findings, kept compact so that it stays small
// beside a report of any size: the finding streams the report saw, as SHA-256 digests of their
// ids, and which findings (by index) are recorded — not duplicates, not ignored.
type attachment struct {
	rep     *importers.Report
	assetOf map[string]string
	aliases map[string][]string

	seen   map[[32]byte]struct{}
	record []uint64 // bit i: the report's finding i is recorded
	found  int      // how many are
}

// saw reports whether the report saw the finding stream id.
func (a *attachment) saw(id string) bool {
	_, ok := a.seen[sha256.Sum256([]byte(id))]
	return ok
}

func (a *attachment) recorded(i int) bool { return a.record[i/64]&(1<<(i%64)) != 0 }

// stream returns the asset and finding stream of an attachable finding.
func (im *Importer) stream(a *attachment, f *importers.Finding) (assetID, key, id string) {
	assetID = a.assetOf[f.AssetKey]
	key = IdentityKey(assetID, a.rep.Format, f.Fingerprint)
	return assetID, key, im.findingOf(key, a.aliases[assetID], a.rep.Format, f.Fingerprint)
}

// attach maps the report's findings to finding streams, recording nothing: it fills a with the
// streams seen and the findings to record. Duplicates and ignored kinds are counted in sum; a
// finding that cannot be attached (its asset could not be identified, it has no fingerprint)
// fails the import with an *IncompleteImportError before any finding is recorded.
func (im *Importer) attach(ctx context.Context, list *reportFindings, a *attachment, sum *Summary) error {
	var (
		unattached  []string // the first MaxWarnings reasons (no more can be shown)
		unattachedN int
		dupAt       = map[[32]byte]int{} // finding stream id's digest → its index in sum.Duplicates
	)
	a.seen = make(map[[32]byte]struct{}, list.n)
	a.record = make([]uint64, (list.n+63)/64)
	err := list.each(ctx, func(i int, f *importers.Finding) error {
		if f.Kind == importers.KindLicense {
			sum.Ignored++
			sum.IgnoredReason = "license results: the platform tracks vulnerabilities and weaknesses, not license policy"
			return nil
		}
		if _, ok := a.assetOf[f.AssetKey]; !ok {
			if unattachedN++; len(unattached) < MaxWarnings {
				unattached = append(unattached, fmt.Sprintf("finding %q: its asset %q could not be identified (the report names no stable identifier and no target: attach the report to a known asset with ?asset= or soc import --asset)", clip(f.Title, 200), clip(f.AssetKey, 200)))
			}
			return nil
		}
		if strings.TrimSpace(f.Fingerprint) == "" {
			if unattachedN++; len(unattached) < MaxWarnings {
				unattached = append(unattached, fmt.Sprintf("finding %q has no fingerprint", clip(f.Title, 200)))
			}
			return nil
		}
		_, _, id := im.stream(a, f)
		h := sha256.Sum256([]byte(id))
		if _, dup := a.seen[h]; dup {
			sum.Skipped++
			sum.DuplicateCount++
			if j, ok := dupAt[h]; ok {
				sum.Duplicates[j].Listed++
			} else if len(sum.Duplicates) < MaxWarnings {
				dupAt[h] = len(sum.Duplicates)
				sum.Duplicates = append(sum.Duplicates, Duplicate{Fingerprint: clip(f.Fingerprint, 512), Title: clip(f.Title, 200), Listed: 2})
			}
			sum.warn(fmt.Sprintf("finding %q is listed twice in the report (fingerprint %s)", clip(f.Title, 200), clip(f.Fingerprint, 200)))
			return nil
		}
		a.seen[h] = struct{}{}
		a.record[i/64] |= 1 << (i % 64)
		a.found++
		return nil
	})
	if err != nil {
		return err
	}
	if unattachedN > 0 {
		sum.Skipped += unattachedN
		return im.incomplete(sum, unattached, unattachedN)
	}
	return nil
}

// record hands the findings attach chose to the recorder, im.recordBatch at a time, so that
// only one batch of findings and of the events built from them is in memory at once.
func (im *Importer) record(ctx context.Context, list *reportFindings, a *attachment, scanID string, at time.Time, meta es.Meta, c *counter) error {
	batch := make([]vulnapp.ScanFinding, 0, min(a.found, im.recordBatch))
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := im.findingRec.Seen(ctx, meta, scanID, at, batch, func(o vulnapp.ScanOutcome) { c.add(o, true) })
		clear(batch) // let the batch's findings go
		batch = batch[:0]
		return err
	}
	rep := a.rep
	err := list.each(ctx, func(i int, f *importers.Finding) error {
		if !a.recorded(i) {
			return nil
		}
		assetID, key, id := im.stream(a, f)
		if o, ok := im.recordedBy(id, scanID); ok {
			// Recorded by this scan id's interrupted run: counted, not recorded again.
			c.add(o, true)
			return nil
		}
		batch = append(batch, vulnapp.ScanFinding{ID: id, Severity: severityOf(f.Severity), Criticality: im.assetReg.Criticality(assetID),
			Suppressed: suppressionOf(f.Suppressed),
			Opened: func() contracts.FindingOpenedV2 {
				return openedData(f, assetID, ScopeKey(assetID, rep.Format), key, scanID, rep, at)
			}})
		if len(batch) == cap(batch) {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// findingOf is the stream of the finding with identity key, or, when the catalogue does not know
// it but knows the same finding (format and fingerprint) of an asset merged into the key's
// asset (aliases), that finding's stream: it follows its asset into the merge, history and all.
func (im *Importer) findingOf(key string, aliases []string, format, fingerprint string) string {
	id := FindingStreamID(key)
	if _, _, ok := im.finding(id); ok || len(aliases) == 0 {
		return id
	}
	for _, a := range aliases {
		alt := FindingStreamID(IdentityKey(a, format, fingerprint))
		if _, _, ok := im.finding(alt); ok {
			return alt
		}
	}
	return id
}

// incomplete is the *IncompleteImportError of sum, with reasons (bounded) also in its warnings;
// total is how many reasons there were, reasons being the first of them.
func (im *Importer) incomplete(sum *Summary, reasons []string, total int) error {
	e := &IncompleteImportError{Parsed: sum.Parsed, Stored: sum.Stored, Duplicates: sum.DuplicateCount, Ignored: sum.Ignored}
	for _, r := range reasons {
		sum.warn(r)
		if len(e.Reasons) < 10 {
			e.Reasons = append(e.Reasons, r)
		}
	}
	if n := total - len(e.Reasons); n > 0 {
		e.Reasons = append(e.Reasons, fmt.Sprintf("and %d more", n))
	}
	return e
}

// suppressionOf is a parser's verdict in the lifecycle's words: false_positive and not_affected
// (the vulnerability does not affect the asset: nothing to fix) are false positives, resolved is
// resolved, accepted a risk acceptance.
func suppressionOf(s *importers.Suppression) *vulnapp.Suppression {
	if s == nil {
		return nil
	}
	var st vulns.Status
	switch s.Kind {
	case importers.SuppressedFalsePositive, importers.SuppressedNotAffected:
		st = vulns.StatusFalsePositive
	case importers.SuppressedResolved:
		st = vulns.StatusResolved
	case importers.SuppressedAccepted:
		st = vulns.StatusRiskAccepted
	default:
		return nil
	}
	reason := string(s.Kind)
	if r := strings.TrimSpace(s.Reason); r != "" {
		reason += ": " + r
	}
	if s.Source != "" {
		reason += " (" + s.Source + ")"
	}
	return &vulnapp.Suppression{Status: st, Reason: clip(reason, 1024)}
}

// holdBack returns how many of the findings of scope the import did not see (gone; seenHere is
// how many it did see) it holds back, and why, or 0 and "" when the scan may resolve and close
// them as usual. Unless closeMissing: a report that saw nothing of the scope changes none of
// them (neither resolves active ones nor closes resolved ones), and one that would resolve more
// than MaxCloseShare of the scope's findings (those it saw and those it would resolve) resolves
// none.
func (im *Importer) holdBack(scope string, gone []string, seenHere int, closeMissing bool) (int, string) {
	if closeMissing {
		return 0, ""
	}
	var active, resolved int
	for _, id := range gone {
		f, _, ok := im.finding(id)
		switch {
		case !ok:
		case f.Active():
			active++
		case f.Status == vulns.StatusResolved:
			resolved++
		}
	}
	if seenHere == 0 && active+resolved > 0 {
		return active + resolved, fmt.Sprintf("%d findings of scope %s neither resolved nor closed: the report saw none of the scope's findings (pass close_missing=true to resolve them)", active+resolved, scope)
	}
	if active == 0 {
		return 0, ""
	}
	if share := float64(active) / float64(active+seenHere); share > im.maxCloseShare {
		return active, fmt.Sprintf("%d findings of scope %s not resolved: that would resolve %.0f%% of it, more than the %.0f%% allowed (pass close_missing=true to resolve them)",
			active, scope, 100*share, 100*im.maxCloseShare)
	}
	return 0, ""
}

// discover maps each report asset key to an asset stream id, through the assets context, which
// registers the assets the platform does not know and records the identifiers it had not seen on
// those it does.
func (im *Importer) discover(ctx context.Context, rep *importers.Report, scanID, fallback string, meta es.Meta, sum *Summary) (map[string]string, error) {
	// Decide on every asset appended so far (another node's, an endpoint's).
	if err := im.assetReg.CatchUp(ctx); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(rep.Assets))
	for i := range rep.Assets {
		ra := rep.Assets[i]
		if _, dup := out[ra.Key]; dup {
			continue
		}
		d, err := im.assetReg.Discover(ctx, meta, scanID, sighting(ra))
		if err != nil {
			return nil, err
		}
		switch {
		case d.Refused != nil:
			if fallback != "" {
				sum.AssetsMatched++
				out[ra.Key] = fallback
				continue
			}
			weak, err := im.weakAsset(ctx, rep, ra, scanID, meta, sum)
			if err != nil {
				return nil, err
			}
			if weak != "" {
				out[ra.Key] = weak
				continue
			}
			sum.warn(fmt.Sprintf("asset %q not registered (pass asset, ?asset= or soc import --asset, to attach its findings to a known asset): %v", clip(ra.Key, 200), d.Refused))
		case d.Registered:
			sum.AssetsDiscovered++
			out[ra.Key] = d.AssetID
		default:
			sum.AssetsMatched++
			out[ra.Key] = d.AssetID
			if d.IdentifiersRefused != nil {
				sum.warn(fmt.Sprintf("asset %s: new identifiers not recorded: %v", d.AssetID, d.IdentifiersRefused))
			}
		}
	}
	return out, nil
}

// weakAsset is the asset a report asset with no usable identifier is attached to by what the
// report names as its target (Report.Target): the live asset registered with that weak key, or
// a new one registered weakly. "" when the report names nothing or the assets domain refuses
// the registration (the findings are then not attached).
func (im *Importer) weakAsset(ctx context.Context, rep *importers.Report, ra importers.Asset, scanID string, meta es.Meta, sum *Summary) (string, error) {
	if rep.Target == nil {
		return "", nil
	}
	d, err := im.assetReg.DiscoverWeak(ctx, meta, scanID, assetapp.WeakSighting{Kind: assetapp.AssetKind(ra.Kind), Hint: rep.Target.Hint, Name: rep.Target.Name})
	switch {
	case err != nil || d.Key == "":
		return "", err
	case d.Refused != nil:
		sum.warn(fmt.Sprintf("asset %q: not registered by its report's target %q either: %v", clip(ra.Key, 200), clip(rep.Target.Name, 200), d.Refused))
		return "", nil
	}
	sum.AssetsWeak++
	if !d.Registered {
		sum.AssetsMatched++
		return d.AssetID, nil
	}
	sum.AssetsDiscovered++
	sum.warn(fmt.Sprintf("asset %q has no stable identifier: registered as %s, identified weakly by %s", clip(ra.Key, 200), d.AssetID, clip(d.Key, 300)))
	return d.AssetID, nil
}

// sighting is a report asset in the assets context's words.
func sighting(ra importers.Asset) assetapp.Sighting {
	return assetapp.Sighting{Kind: assetapp.AssetKind(ra.Kind), Name: ra.Name, ImageName: ra.ImageName, IPs: ra.IPs,
		Hostnames: ra.Hostnames, MACs: ra.MACs, ImageDigest: ra.ImageDigest, PURL: ra.PURL, RepoURL: ra.RepoURL,
		BaseURL: ra.BaseURL, CloudID: ra.CloudID}
}
