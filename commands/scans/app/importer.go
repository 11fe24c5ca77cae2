package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unique"

	assetapp "github.com/socplatform/soc/commands/assets/app"
	"github.com/socplatform/soc/commands/scans/importers"
	vulnapp "github.com/socplatform/soc/commands/vulns/app"
	vulns "github.com/socplatform/soc/commands/vulns/domain"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/snapshot"
	"github.com/socplatform/soc/schemas/contracts"
)

// Options configures an Importer. Zero fields take the defaults.
type Options struct {
	// Parsers are the formats the importer reads (default: DefaultParsers()). Format names must
	// be unique.
	Parsers []importers.Parser
	// SLA sets FindingDueDateSet on open (default: vulns.DefaultSLA()).
	SLA *vulns.SLAPolicy
	// Now is the clock (default time.Now).
	Now func() time.Time
	// ReadBatch is the page size when reading $all (default 1000).
	ReadBatch int
	// Workers is how many findings are decided and appended at once (default 64, so the store's
	// group commit has appends to batch). The SQLite
	// adapter serialises writes, but schema validation and encoding run in parallel.
	Workers int
	// Snapshots is where the lookups are snapshotted (zero: no snapshots, every start replays
	// $all). Load restores the snapshot and reads only the events after it.
	Snapshots snapshot.Dir
	// SnapshotPolicy says how often the follower started by Start writes a snapshot; it also
	// writes one when it stops.
	SnapshotPolicy snapshot.Policy
	// Assets is the assets context's lookup the import matches and registers assets through
	// (cmd/soc shares one with the asset endpoints, and starts it). Default: a lookup of the
	// importer's own, without snapshots, caught up from $all at every import.
	Assets AssetRegistry
	// MaxCloseShare is the largest share (0 < share <= 1) of a scope's findings a reimport
	// resolves by not seeing them, unless its request says CloseMissing (default
	// DefaultMaxCloseShare): a report cut short or scoped differently must not resolve them.
	MaxCloseShare float64
}

// DefaultMaxCloseShare is Options.MaxCloseShare's default.
const DefaultMaxCloseShare = 0.5

// Importer is the application service of a scan import. It keeps the findings catalogue in
// memory — finding stream id → (scope, Finding aggregate, stream version), and scope → finding
// stream ids, so an import knows which findings of a scope it did not see — restored at
// Load/Start from its snapshot (Options.Snapshots) and the events of $all after it (all of $all
// without one), and kept current after every append it makes and by re-reading $all (from where
// it stopped) at the start of every import. Assets are the assets context's: the import asks its
// lookup (Options.Assets), after catching it up to the head, through the AssetRegistry port.
//
// Imports of the same scope (asset + format) are serialised by a per-scope mutex; different
// scopes run in parallel. The mutexes are in-process only: a multi-node deployment must route
// all imports of a scope to one node (for example by hashing the asset to a node), otherwise two
// nodes could decide on the same findings at once. Optimistic concurrency (expected versions on
// every append) still prevents a lost update — the loser retries from the stream — but two nodes
// could each register the same new asset. This is a known limitation.
type Importer struct {
	store   *events.Guarded
	parsers map[string]importers.Parser
	formats []string
	// emptyIsReport are the formats whose parser reads an empty report as one with no findings
	// (importertest.Spec.EmptyIsReport), sorted: the parsers decide, asked once in New.
	emptyIsReport []string

	sla     vulns.SLAPolicy
	now     func() time.Time
	batch   int
	workers int
	// maxCloseShare: see Options.MaxCloseShare.
	maxCloseShare float64
	// spillAbove and recordBatch bound an import's memory: see defaultSpillAbove and
	// defaultRecordBatch (tests lower them).
	spillAbove, recordBatch int

	assetReg   AssetRegistry
	findingRec FindingRecorder

	// follow restores the lookups from their snapshot, catches them up with $all (sync) and
	// follows the store.
	follow *snapshot.Follower[importerState]

	mu       sync.RWMutex
	findings map[string]*findingState       // finding stream id → state
	scopes   map[string]map[string]struct{} // scope → finding stream ids
	pending  map[string]PendingImport       // scan id → requested import not ended

	locksMu    sync.Mutex
	scopeLocks map[string]*scopeLock
}

type findingState struct {
	scope   string
	agg     vulns.Finding
	version int64
	pos     int64 // global position of the last event applied
	// scan is the scan id of the last scan that recorded something on the finding, outcome
	// what (see noteScan).
	scan    string
	outcome vulnapp.ScanOutcome
}

type scopeLock struct {
	mu   sync.Mutex
	refs int
}

// New returns an Importer over store. Call Load or Start before Import.
func New(store *events.Guarded, opts Options) (*Importer, error) {
	if store == nil {
		return nil, errors.New("scans/app: store is required")
	}
	im := &Importer{
		store: store, parsers: map[string]importers.Parser{}, sla: vulns.DefaultSLA(), now: opts.Now,
		batch: opts.ReadBatch, workers: opts.Workers, assetReg: opts.Assets,
		findings: map[string]*findingState{}, scopes: map[string]map[string]struct{}{},
		pending: map[string]PendingImport{}, scopeLocks: map[string]*scopeLock{},
		spillAbove: defaultSpillAbove, recordBatch: defaultRecordBatch,
	}
	if opts.SLA != nil {
		if err := opts.SLA.Validate(); err != nil {
			return nil, err
		}
		im.sla = *opts.SLA
	}
	if im.now == nil {
		im.now = time.Now
	}
	if im.batch <= 0 || im.batch > events.MaxReadLimit {
		im.batch = 1000
	}
	if im.workers <= 0 {
		im.workers = 64
	}
	switch s := opts.MaxCloseShare; {
	case s == 0:
		im.maxCloseShare = DefaultMaxCloseShare
	case s > 0 && s <= 1:
		im.maxCloseShare = s
	default:
		return nil, fmt.Errorf("scans/app: MaxCloseShare %v is not in (0, 1]", s)
	}
	im.follow = snapshot.NewFollower[importerState](store, importerFold{im}, snapshot.FollowerConfig{Name: snapshotName,
		Version: snapshotVersion, Dir: opts.Snapshots, Policy: opts.SnapshotPolicy, ReadBatch: im.batch})
	if im.assetReg == nil {
		im.assetReg = assetapp.NewLookup(store, assetapp.LookupOptions{ReadBatch: im.batch})
	}
	rec := vulnapp.NewScanRecorder(store, im.sla, catalogue{im}, im.workers)
	rec.Now = im.now
	im.findingRec = rec
	ps := opts.Parsers
	if len(ps) == 0 {
		ps = DefaultParsers()
	}
	for _, p := range ps {
		if p == nil {
			return nil, errors.New("scans/app: nil parser")
		}
		if _, dup := im.parsers[p.Format()]; dup {
			return nil, fmt.Errorf("scans/app: two parsers for format %q", p.Format())
		}
		im.parsers[p.Format()] = p
		im.formats = append(im.formats, p.Format())
	}
	sort.Strings(im.formats)
	for _, f := range im.formats {
		if _, err := im.parsers[f].Parse(context.Background(), bytes.NewReader(nil)); err == nil {
			im.emptyIsReport = append(im.emptyIsReport, f)
		}
	}
	return im, nil
}

// Formats lists the formats the importer reads.
func (im *Importer) Formats() []string { return append([]string(nil), im.formats...) }

// EmptyIsReport reports whether an empty report (no bytes, or white space only) of format is a
// report with no findings: true for the formats whose scanners write an empty file when they
// find nothing (nuclei, gitleaks); the others refuse it. Auto-detection claims no empty report.
func (im *Importer) EmptyIsReport(format string) bool {
	return slices.Contains(im.emptyIsReport, format)
}

// Load restores the lookups from their snapshot, if there is a usable one, then reads $all
// from where it last stopped (from the snapshot, or from 0) to the head.
func (im *Importer) Load(ctx context.Context) error { return im.follow.Load(ctx) }

// Start loads, then follows the store live in the background until ctx ends, so the lookups see
// what other services append (a person marking a finding false positive). Imports re-read $all
// before deciding anyway; following keeps that read short. The follower reads through the
// eventlog consumer port, snapshots the lookups by Options.SnapshotPolicy and once more when it
// stops.
func (im *Importer) Start(ctx context.Context) error { return im.follow.Start(ctx) }

// Wait blocks until the follower started by Start has stopped (its ctx ended) and returns the
// error that stopped it, if any.
func (im *Importer) Wait() error { return im.follow.Wait() }

// sync applies every event after the cursor, up to the head.
func (im *Importer) sync(ctx context.Context) error { return im.follow.CatchUp(ctx) }

// apply brings the lookups up to date with one stored event.
func (im *Importer) apply(e *events.Envelope) error {
	switch {
	case strings.HasPrefix(e.StreamID, "vulns-finding-"):
		im.mu.Lock()
		defer im.mu.Unlock()
		return im.applyFindingLocked(e.StreamID, e, e.Version, e.GlobalPosition)
	case strings.HasPrefix(e.StreamID, importStreamPrefix):
		im.applyImport(e)
	}
	return nil
}

// applyFindingLocked applies one event of a finding stream at (version, pos). Events at or
// below the position already applied are skipped: the importer applies its own appends at once
// and meets them again when it re-reads $all. Callers hold im.mu.
func (im *Importer) applyFindingLocked(id string, e *events.Envelope, version, pos int64) error {
	st := im.findings[id]
	if st != nil && pos <= st.pos {
		return nil
	}
	if st == nil {
		st = &findingState{}
		im.findings[id] = st
	}
	if err := st.agg.Apply(e); err != nil {
		return fmt.Errorf("%s %s: %w", e.Type, id, err)
	}
	if err := st.noteScan(e); err != nil {
		return err
	}
	st.version, st.pos = version, pos
	// The catalogue holds every finding: the strings many findings share (their asset, scope and
	// last scan) are kept once, not once per finding as each event's data decodes them.
	st.agg.AssetID, st.agg.LastScanID = intern(st.agg.AssetID), intern(st.agg.LastScanID)
	if e.Type == contracts.TypeFindingOpened && st.scope == "" {
		var d struct {
			Scope string `json:"scope"`
		}
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return fmt.Errorf("%s %s: %w", e.Type, id, err)
		}
		if d.Scope != "" {
			st.scope = intern(d.Scope)
			set := im.scopes[d.Scope]
			if set == nil {
				set = map[string]struct{}{}
				im.scopes[d.Scope] = set
			}
			set[id] = struct{}{}
		}
	}
	return nil
}

// intern returns the canonical copy of s (unique: dropped once nothing holds it).
func intern(s string) string {
	if s == "" {
		return ""
	}
	return unique.Make(s).Value()
}

// applyOwn applies the events the importer itself appended to a finding stream. Positions inside
// the batch are derived from the append's last position (they only need to order the batch's
// events among themselves and above every earlier event of the stream).
func (im *Importer) applyOwn(id string, evs []events.Envelope, res events.AppendResult) error {
	im.mu.Lock()
	defer im.mu.Unlock()
	n := int64(len(evs))
	for i := range evs {
		back := n - 1 - int64(i)
		evs[i].StreamID = id
		if err := im.applyFindingLocked(id, &evs[i], res.NextExpectedVersion-back, res.LastPosition-back); err != nil {
			return err
		}
	}
	return nil
}

// finding returns a copy of a finding's state (ok false when the catalogue does not know it).
func (im *Importer) finding(id string) (vulns.Finding, int64, bool) {
	im.mu.RLock()
	defer im.mu.RUnlock()
	st := im.findings[id]
	if st == nil {
		return vulns.Finding{}, 0, false
	}
	return st.agg, st.version, true
}

// scopeMembers returns the finding ids of a scope, sorted.
func (im *Importer) scopeMembers(scope string) []string {
	im.mu.RLock()
	defer im.mu.RUnlock()
	out := make([]string, 0, len(im.scopes[scope]))
	for id := range im.scopes[scope] {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// FindingStatus returns the status the catalogue holds for a finding ("" when unknown).
func (im *Importer) FindingStatus(id string) vulns.Status {
	f, _, ok := im.finding(id)
	if !ok {
		return ""
	}
	return f.Status
}

// ScopeFindings returns the finding stream ids the catalogue holds for a scope, sorted.
func (im *Importer) ScopeFindings(scope string) []string { return im.scopeMembers(scope) }

// lockScopes locks the scopes' mutexes in sorted order and returns the unlock function.
func (im *Importer) lockScopes(scopes []string) func() {
	sorted := append([]string(nil), scopes...)
	sort.Strings(sorted)
	locks := make([]*scopeLock, 0, len(sorted))
	im.locksMu.Lock()
	for _, s := range sorted {
		l := im.scopeLocks[s]
		if l == nil {
			l = &scopeLock{}
			im.scopeLocks[s] = l
		}
		l.refs++
		locks = append(locks, l)
	}
	im.locksMu.Unlock()
	for _, l := range locks {
		l.mu.Lock()
	}
	return func() {
		for i := len(locks) - 1; i >= 0; i-- {
			locks[i].mu.Unlock()
		}
		im.locksMu.Lock()
		for i, s := range sorted {
			if locks[i].refs--; locks[i].refs == 0 {
				delete(im.scopeLocks, s)
			}
		}
		im.locksMu.Unlock()
	}
}

// ScopeKey is the scope of a report's findings on one asset: the asset stream id and the format.
func ScopeKey(assetID, format string) string { return assetID + "|" + format }

// IdentityKey is a finding's natural key: scope + "|" + the parser's fingerprint. Parsers give
// SHA-256 hex fingerprints; one longer than 128 bytes is replaced by "sha256:" and its digest, so
// the key stays bounded.
func IdentityKey(assetID, format, fingerprint string) string {
	if len(fingerprint) > 128 {
		sum := sha256.Sum256([]byte(fingerprint))
		fingerprint = "sha256:" + hex.EncodeToString(sum[:])
	}
	return assetID + "|" + format + "|" + fingerprint
}
