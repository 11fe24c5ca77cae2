// Package catalogue keeps the platform's CVE catalogue: it imports the public feeds (NVD CVE API
// 2.0 JSON, the CISA KEV catalogue, the FIRST EPSS CSV; parsed by package feeds) into one event
// stream per CVE and enriches findings with what is known of their exploitability.
//
// # Streams and events
//
// Every CVE has a stream vulns-cve-<uuidv5> (es.StreamIDFor("vulns", "cve", cveID)) holding:
//
//   - CVEPublished: the first NVD record imported for the CVE;
//   - CVEUpdated: an NVD record whose last_modified is newer than the one stored;
//   - CVEListedInKEV: the first time the CVE is found in the KEV catalogue (source "kev") or in
//     NVD's copy of it (cisaExploitAdd …, source "nvd");
//   - CVEEPSSScored: an EPSS score or percentile that differs from the last one stored. Rows of
//     a file whose score_date is older than the stored score's are ignored (a "stale" warning),
//     so importing last month's file after today's does not move scores back.
//
// Re-importing the same file appends nothing: every event is decided against the stored state.
// Event ids are deterministic (es.Meta.IdempotencyKey built from the feed, the record's identity
// and the stream version it is appended at), so an import retried after a lost answer is a no-op
// at the store too.
//
// # Enrichment
//
// A finding's exploitability is derived from the CVEs its FindingOpened lists: kev is true when
// any of them is KEV-listed; epss and epss_percentile are the highest of their scores. When an
// import changes a CVE's KEV status or EPSS, every finding listing that CVE whose current values
// (from its FindingExploitabilityChanged events) differ gets a FindingExploitabilityChanged with
// {"kev", "epss", "epss_percentile", "source"} (source is the feed: "kev", "epss", or "nvd" for
// NVD's KEV data). The CVE that caused it is in the event's metadata ({"cve": …, "feed": …}):
// the published FindingExploitabilityChanged.v1 schema has no "cve" property.
//
// Findings opened after a feed was imported are enriched by EnrichNew, which checks every
// finding opened since its last run (every finding, after Load). Import calls it at its end;
// the scan-import pipeline should call it after each scan import, so that new findings are
// enriched without waiting for the next feed import.
//
// # Write-side lookup
//
// A Catalogue keeps in memory, rebuilt from $all by Load and brought up to date at the start of
// every Import and EnrichNew (and at once after its own appends): CVE id → (stream version,
// last_modified, KEV listed, EPSS, percentile); CVE id → finding stream ids; finding stream id →
// (CVEs, version, kev, epss, percentile, asset, status), which also answers which KEV-listed
// findings of an asset are open (OpenKEVFindings, for the notification planner). Imports and enrichments of one Catalogue are serialised.
// Appends use exact expected versions; a version conflict on a finding (a scan import wrote to it
// meanwhile) re-reads $all and decides again. Only one Catalogue per store should import at a time
// (a second one would lose the race on a CVE stream and fail with a version conflict, appending
// nothing wrong).
//
// # Failures
//
// A file that fails to parse before its first record (not the feed's format, a syntax error in
// its header) appends nothing and Import returns the feeds package's *feeds.ParseError. Records
// are committed as they are read, so a stream that fails midway keeps the events of the records
// before the error; the error names the position of the bad record. Re-running the import after
// fixing the file appends only what is still missing.
package catalogue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
	"unique"

	"github.com/socplatform/soc/commands/internal/background"
	"github.com/socplatform/soc/commands/internal/es"
	vulns "github.com/socplatform/soc/commands/vulns/domain"
	"github.com/socplatform/soc/commands/vulns/feeds"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/eventlog"
	"github.com/socplatform/soc/events/snapshot"
	"github.com/socplatform/soc/schemas/contracts"
)

// Bounds of the CVE events (see the schemas).
const (
	maxDescriptionBytes = 32768
	maxReferences       = 200
	maxReferenceBytes   = 2048
	maxCPEs             = 300
	maxCPEBytes         = 1024
	maxRatings          = 32
	maxVectorBytes      = 512
	maxCWEs             = 64
	maxConflictRetries  = 5
	truncatedMark       = "…[truncated]"
)

// Warning codes added by the catalogue (beside the feeds package's).
const (
	WarnTruncated = "truncated" // a record was cut to fit its event's bounds
	WarnStale     = "stale"     // EPSS rows with a score_date older than the stored score were ignored
)

// StreamID returns the stream id of a CVE.
func StreamID(cveID string) string { return es.StreamIDFor("vulns", "cve", cveID) }

// Options configures a Catalogue. Zero fields take the defaults.
type Options struct {
	// Actor is recorded on every appended event (default "system:catalogue", the feed loader's
	// worker actor).
	Actor string
	// ReadBatch is the page size when reading $all (default 1000).
	ReadBatch int
	// Parse bounds the feed parsers (feeds.Options{} by default).
	Parse feeds.Options
	// Snapshots is where the lookup is snapshotted (zero: none; Load replays all of $all).
	Snapshots snapshot.Dir
	// SnapshotPolicy says how often a catch-up writes a snapshot; SaveSnapshot writes one at once
	// (at shutdown).
	SnapshotPolicy snapshot.Policy
}

// Summary is what one Import did.
type Summary struct {
	Feed             string          `json:"feed"`
	Records          int             `json:"records"`
	CVEsNew          int             `json:"cves_new"`
	CVEsUpdated      int             `json:"cves_updated"`
	KEVListed        int             `json:"kev_listed"`
	EPSSChanged      int             `json:"epss_changed"`
	FindingsEnriched int             `json:"findings_enriched"`
	Warnings         []feeds.Warning `json:"warnings"`

	epssStale int
}

type cveState struct {
	version      int64
	nvd          bool // has a CVEPublished
	lastModified time.Time
	kev          bool
	hasEPSS      bool
	epss, pct    float64
	scoreDate    time.Time // of the last EPSS score
}

type findingState struct {
	version   int64
	cves      []string
	kev       bool
	hasEPSS   bool
	epss, pct float64
	asset     string // interned: many findings share it
	status    vulns.Status
}

func (s *cveState) streamVersion() *int64     { return &s.version }
func (s *findingState) streamVersion() *int64 { return &s.version }

// advance returns the state of stream key in m, created on first sight, moved to stream version
// v; nil when v is not past the version it has applied (own appends are applied at once and met
// again in $all, and a follower's batch may come again).
func advance[S any, P interface {
	*S
	streamVersion() *int64
}](m map[string]P, key string, v int64) P {
	st := m[key]
	if st == nil {
		st = P(new(S))
		m[key] = st
	}
	if at := st.streamVersion(); v > *at {
		*at = v
		return st
	}
	return nil
}

// Catalogue imports feeds and enriches findings. It is safe for concurrent use; its operations
// are serialised.
type Catalogue struct {
	store *events.Guarded
	opts  Options

	mu        sync.Mutex
	cursor    snapshot.Mark // last event of $all applied
	restored  bool          // Load has tried the snapshot
	snapTrack snapshot.Tracker

	cves     map[string]*cveState
	findings map[string]*findingState
	byCVE    map[string]map[string]struct{} // CVE id → finding stream ids
	pending  map[string]struct{}            // findings opened since the last EnrichNew

	follower background.Follower // the follower started by Start
}

// New returns a Catalogue over store; call Load before use (Import and EnrichNew also catch up).
func New(store *events.Guarded, opts Options) *Catalogue {
	if opts.Actor == "" {
		opts.Actor = "system:catalogue"
	}
	if opts.ReadBatch <= 0 {
		opts.ReadBatch = 1000
	}
	return &Catalogue{store: store, opts: opts,
		cves: map[string]*cveState{}, findings: map[string]*findingState{},
		byCVE: map[string]map[string]struct{}{}, pending: map[string]struct{}{},
		snapTrack: snapshot.Tracker{Policy: opts.SnapshotPolicy}}
}

// Load rebuilds the lookup from its snapshot (Options.Snapshots) and the events of $all after it,
// or from all of $all without a usable one; later calls catch up from where it stopped.
func (c *Catalogue) Load(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.restore(ctx); err != nil {
		return err
	}
	return c.sync(ctx)
}

// sync applies every event after the cursor. Callers hold c.mu.
func (c *Catalogue) sync(ctx context.Context) error {
	if err := eventlog.ReadToHead(ctx, c.store, c.cursor.Position, c.opts.ReadBatch, c.applyBatch); err != nil {
		return err
	}
	c.snapshotIfDue()
	return nil
}

// applyBatch applies the events of batch after the cursor and moves the cursor past them. Events
// at or below it were applied already (a catch-up read them first, or the follower's batch is
// redelivered). Callers hold c.mu.
func (c *Catalogue) applyBatch(batch []events.Envelope) error {
	for i := range batch {
		if batch[i].GlobalPosition <= c.cursor.Position {
			continue
		}
		if err := c.apply(&batch[i]); err != nil {
			return err
		}
		c.cursor = snapshot.Mark{Position: batch[i].GlobalPosition, EventID: batch[i].EventID}
	}
	return nil
}

// apply brings the lookup up to date with one event. Events at or below a stream's known version
// are skipped: own appends are applied at once and met again in $all.
func (c *Catalogue) apply(e *events.Envelope) error {
	switch {
	case strings.HasPrefix(e.StreamID, "vulns-cve-"):
		return c.applyCVE(e)
	case strings.HasPrefix(e.StreamID, "vulns-finding-"):
		return c.applyFinding(e)
	}
	return nil
}

func (c *Catalogue) applyCVE(e *events.Envelope) error {
	var d struct {
		ID           string    `json:"id"`
		LastModified time.Time `json:"last_modified"`
		EPSS         float64   `json:"epss"`
		Percentile   float64   `json:"percentile"`
		ScoreDate    time.Time `json:"score_date"`
	}
	if err := json.Unmarshal(e.Data, &d); err != nil {
		return fmt.Errorf("%s %s: %w", e.Type, e.StreamID, err)
	}
	if d.ID == "" {
		return nil
	}
	st := advance(c.cves, d.ID, e.Version)
	if st == nil {
		return nil
	}
	switch e.Type {
	case contracts.TypeCVEPublished, contracts.TypeCVEUpdated:
		st.nvd = true
		if d.LastModified.After(st.lastModified) {
			st.lastModified = d.LastModified
		}
	case contracts.TypeCVEListedInKEV:
		st.kev = true
	case contracts.TypeCVEEPSSScored:
		st.hasEPSS, st.epss, st.pct = true, d.EPSS, d.Percentile
		if !d.ScoreDate.IsZero() {
			st.scoreDate = d.ScoreDate
		}
	}
	return nil
}

func (c *Catalogue) applyFinding(e *events.Envelope) error {
	st := advance(c.findings, e.StreamID, e.Version)
	if st == nil {
		return nil
	}
	if s, ok := contracts.FindingStatusAfter[e.Type]; ok {
		st.status = s
	}
	switch e.Type {
	case contracts.TypeFindingOpened:
		var d struct {
			CVEs    []string `json:"cves"`
			AssetID string   `json:"asset_id"`
		}
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return fmt.Errorf("%s %s: %w", e.Type, e.StreamID, err)
		}
		if d.AssetID != "" {
			st.asset = unique.Make(d.AssetID).Value()
		}
		for _, id := range d.CVEs {
			id = strings.ToUpper(strings.TrimSpace(id))
			if !feeds.ValidCVEID(id) || slices.Contains(st.cves, id) {
				continue
			}
			st.cves = append(st.cves, id)
			set := c.byCVE[id]
			if set == nil {
				set = map[string]struct{}{}
				c.byCVE[id] = set
			}
			set[e.StreamID] = struct{}{}
		}
		if len(st.cves) > 0 {
			c.pending[e.StreamID] = struct{}{}
		}
	case contracts.TypeFindingExploitabilityChanged:
		var d struct {
			KEV        *bool    `json:"kev"`
			EPSS       *float64 `json:"epss"`
			Percentile *float64 `json:"epss_percentile"`
		}
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return fmt.Errorf("%s %s: %w", e.Type, e.StreamID, err)
		}
		if d.KEV != nil {
			st.kev = *d.KEV
		}
		if d.EPSS != nil {
			st.hasEPSS, st.epss = true, *d.EPSS
		}
		if d.Percentile != nil {
			st.pct = *d.Percentile
		}
	}
	return nil
}

// appendApply appends changes to streamID at expected version (deterministic ids from key) and
// applies them to the lookup.
func (c *Catalogue) appendApply(ctx context.Context, streamID string, expected int64, key string, metadata json.RawMessage, changes []es.Change) error {
	evs, err := es.Envelopes(es.Meta{Actor: c.opts.Actor, IdempotencyKey: fmt.Sprintf("%s|v%d", key, expected)}, streamID, changes)
	if err != nil {
		return err
	}
	for i := range evs {
		evs[i].Metadata = metadata
	}
	res, err := c.store.Append(ctx, streamID, events.Exact(expected), evs)
	if err != nil {
		return err
	}
	n := int64(len(evs))
	for i := range evs {
		evs[i].StreamID = streamID
		evs[i].Version = res.NextExpectedVersion - (n - 1 - int64(i))
		if err := c.apply(&evs[i]); err != nil {
			return err
		}
	}
	return nil
}

// Import reads one feed ("nvd", "kev" or "epss") from r and appends what changed, then enriches
// findings (EnrichNew included). A bad input is returned as the feeds package's *feeds.ParseError.
func (c *Catalogue) Import(ctx context.Context, feed string, r io.Reader) (Summary, error) {
	sum := Summary{Feed: feed, Warnings: []feeds.Warning{}}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.sync(ctx); err != nil {
		return sum, err
	}
	var (
		st  feeds.Stats
		err error
	)
	switch feeds.Feed(feed) {
	case feeds.FeedNVD:
		st, err = c.opts.Parse.ParseNVD(ctx, r, func(cve feeds.CVE) error { return c.importNVD(ctx, cve, &sum) })
	case feeds.FeedKEV:
		st, err = c.opts.Parse.ParseKEV(ctx, r, func(e feeds.KEVEntry) error { return c.importKEV(ctx, e, &sum) })
	case feeds.FeedEPSS:
		st, err = c.opts.Parse.ParseEPSS(ctx, r, func(s feeds.EPSSScore) error { return c.importEPSS(ctx, s, &sum) })
	default:
		return sum, fmt.Errorf("unknown feed %q (want nvd, kev or epss)", feed)
	}
	sum.Records = st.Records
	sum.Warnings = append(sum.Warnings, st.Warnings...)
	if sum.epssStale > 0 {
		sum.Warnings = append(sum.Warnings, feeds.Warning{Code: WarnStale, Record: -1,
			Msg: fmt.Sprintf("%d EPSS rows are older than the scores stored and were ignored", sum.epssStale)})
	}
	if err != nil {
		return sum, err
	}
	n, err := c.enrichPending(ctx)
	sum.FindingsEnriched += n
	return sum, err
}

// EnrichNew enriches the findings opened since its last run (every finding after Load) against
// the catalogue, and returns how many FindingExploitabilityChanged events it appended. Call it
// after every scan import.
func (c *Catalogue) EnrichNew(ctx context.Context) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.sync(ctx); err != nil {
		return 0, err
	}
	return c.enrichPending(ctx)
}

func (c *Catalogue) enrichPending(ctx context.Context) (int, error) {
	ids := make([]string, 0, len(c.pending))
	for id := range c.pending {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	total := 0
	for _, id := range ids {
		n, err := c.enrichFinding(ctx, id, "", "")
		total += n
		if err != nil {
			return total, err
		}
		delete(c.pending, id)
	}
	return total, nil
}

// enrichCVE enriches every finding listing cveID.
func (c *Catalogue) enrichCVE(ctx context.Context, cveID, source string) (int, error) {
	set := c.byCVE[cveID]
	ids := make([]string, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	total := 0
	for _, id := range ids {
		n, err := c.enrichFinding(ctx, id, cveID, source)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// target is what a finding's exploitability should be, from its CVEs.
func (c *Catalogue) target(f *findingState) (kev, hasEPSS bool, epss, pct float64) {
	for _, id := range f.cves {
		s := c.cves[id]
		if s == nil {
			continue
		}
		kev = kev || s.kev
		if s.hasEPSS {
			hasEPSS = true
			epss, pct = max(epss, s.epss), max(pct, s.pct)
		}
	}
	return
}

// enrichFinding appends a FindingExploitabilityChanged to finding id when its values differ from
// the catalogue's. cveID and source name the cause ("" from EnrichNew).
func (c *Catalogue) enrichFinding(ctx context.Context, id, cveID, source string) (int, error) {
	for attempt := 0; ; attempt++ {
		f := c.findings[id]
		if f == nil {
			return 0, nil
		}
		kev, hasEPSS, epss, pct := c.target(f)
		kevDiff := kev != f.kev
		epssDiff := hasEPSS && (!f.hasEPSS || epss != f.epss || pct != f.pct)
		if !kevDiff && !epssDiff {
			return 0, nil
		}
		src := source
		if src == "" {
			switch {
			case kevDiff && epssDiff:
				src = "kev+epss"
			case kevDiff:
				src = "kev"
			default:
				src = "epss"
			}
		}
		data := map[string]any{"kev": kev, "source": src}
		if hasEPSS {
			data["epss"], data["epss_percentile"] = epss, pct
		}
		md := map[string]any{"feed": src}
		if cveID != "" {
			md["cve"] = cveID
		} else {
			md["cves"] = f.cves
		}
		meta, err := json.Marshal(md)
		if err != nil {
			return 0, err
		}
		key := fmt.Sprintf("catalogue|enrich|%s|%s|kev=%t|epss=%v|pct=%v", cveID, src, kev, epss, pct)
		err = c.appendApply(ctx, id, f.version, key, meta,
			[]es.Change{{Type: contracts.TypeFindingExploitabilityChanged, Data: data}})
		var vc *events.VersionConflictError
		if errors.As(err, &vc) && attempt < maxConflictRetries {
			if err := c.sync(ctx); err != nil {
				return 0, err
			}
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("enriching %s: %w", id, err)
		}
		return 1, nil
	}
}

func (c *Catalogue) cve(id string) *cveState {
	if s := c.cves[id]; s != nil {
		return s
	}
	return &cveState{}
}

func (c *Catalogue) importNVD(ctx context.Context, cve feeds.CVE, sum *Summary) error {
	s := c.cve(cve.ID)
	var changes []es.Change
	newKEV := false
	switch {
	case !s.nvd:
		changes = append(changes, es.Change{Type: contracts.TypeCVEPublished, Data: nvdData(cve, sum)})
		sum.CVEsNew++
	case cve.LastModified.After(s.lastModified):
		changes = append(changes, es.Change{Type: contracts.TypeCVEUpdated, Data: nvdData(cve, sum)})
		sum.CVEsUpdated++
	}
	if cve.KEV != nil && !s.kev {
		d := map[string]any{"id": cve.ID, "date_added": cve.KEV.DateAdded.Format(time.DateOnly), "source": "nvd"}
		if !cve.KEV.DueDate.IsZero() {
			d["due_date"] = cve.KEV.DueDate.Format(time.DateOnly)
		}
		putString(d, "vulnerability_name", cve.KEV.VulnerabilityName, 1024)
		putString(d, "required_action", cve.KEV.RequiredAction, 4096)
		changes = append(changes, es.Change{Type: contracts.TypeCVEListedInKEV, Data: d})
		sum.KEVListed++
		newKEV = true
	}
	if len(changes) == 0 {
		return nil
	}
	key := fmt.Sprintf("catalogue|nvd|%s|%s", cve.ID, cve.LastModified.Format(time.RFC3339Nano))
	if err := c.appendCVE(ctx, cve.ID, s.version, key, changes); err != nil {
		return err
	}
	if newKEV {
		return c.enrich(ctx, cve.ID, "nvd", sum)
	}
	return nil
}

func (c *Catalogue) importKEV(ctx context.Context, e feeds.KEVEntry, sum *Summary) error {
	s := c.cve(e.CVEID)
	if s.kev {
		return nil
	}
	d := map[string]any{"id": e.CVEID, "date_added": e.DateAdded.Format(time.DateOnly),
		"due_date": e.DueDate.Format(time.DateOnly), "source": "kev"}
	putString(d, "vulnerability_name", e.VulnerabilityName, 1024)
	putString(d, "required_action", e.RequiredAction, 4096)
	putString(d, "known_ransomware_campaign_use", e.KnownRansomwareCampaignUse, 64)
	putString(d, "vendor_project", e.VendorProject, 256)
	putString(d, "product", e.Product, 256)
	key := fmt.Sprintf("catalogue|kev|%s|%s", e.CVEID, e.DateAdded.Format(time.DateOnly))
	if err := c.appendCVE(ctx, e.CVEID, s.version, key, []es.Change{{Type: contracts.TypeCVEListedInKEV, Data: d}}); err != nil {
		return err
	}
	sum.KEVListed++
	return c.enrich(ctx, e.CVEID, "kev", sum)
}

func (c *Catalogue) importEPSS(ctx context.Context, sc feeds.EPSSScore, sum *Summary) error {
	s := c.cve(sc.CVEID)
	if s.hasEPSS && s.epss == sc.EPSS && s.pct == sc.Percentile {
		return nil
	}
	if !sc.ScoreDate.IsZero() && sc.ScoreDate.Before(s.scoreDate) {
		sum.epssStale++ // an older file than the scores stored: never go back
		return nil
	}
	d := map[string]any{"id": sc.CVEID, "epss": sc.EPSS, "percentile": sc.Percentile}
	putString(d, "model_version", sc.ModelVersion, 64)
	if !sc.ScoreDate.IsZero() {
		d["score_date"] = sc.ScoreDate.Format(time.RFC3339Nano)
	}
	key := fmt.Sprintf("catalogue|epss|%s|%s|%s|%v|%v", sc.CVEID, sc.ModelVersion,
		sc.ScoreDate.Format(time.RFC3339Nano), sc.EPSS, sc.Percentile)
	if err := c.appendCVE(ctx, sc.CVEID, s.version, key, []es.Change{{Type: contracts.TypeCVEEPSSScored, Data: d}}); err != nil {
		return err
	}
	sum.EPSSChanged++
	return c.enrich(ctx, sc.CVEID, "epss", sum)
}

// appendCVE appends changes to the CVE's stream at its known version, idempotent by key.
func (c *Catalogue) appendCVE(ctx context.Context, id string, version int64, key string, changes []es.Change) error {
	if err := c.appendApply(ctx, StreamID(id), version, key, nil, changes); err != nil {
		return fmt.Errorf("%s: %w", id, err)
	}
	return nil
}

// enrich enriches the findings that carry CVE id after a change from source, counting them.
func (c *Catalogue) enrich(ctx context.Context, id, source string, sum *Summary) error {
	n, err := c.enrichCVE(ctx, id, source)
	sum.FindingsEnriched += n
	return err
}

// putString sets d[k] = v when v is not empty, cut to max bytes.
func putString(d map[string]any, k, v string, max int) {
	if v != "" {
		d[k] = cut(v, max)
	}
}

// cut shortens s to at most max bytes on a rune boundary, marking the cut.
func cut(s string, max int) string {
	if len(s) <= max {
		return s
	}
	n := max - len(truncatedMark)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + truncatedMark
}

type ratingJSON struct {
	Version   string  `json:"version"`
	Vector    string  `json:"vector"`
	BaseScore float64 `json:"base_score"`
	Severity  string  `json:"severity,omitempty"`
	Source    string  `json:"source,omitempty"`
	Type      string  `json:"type,omitempty"`
}

// nvdData is the data of CVEPublished / CVEUpdated, cut to the schema's bounds.
func nvdData(cve feeds.CVE, sum *Summary) map[string]any {
	d := map[string]any{"id": cve.ID, "last_modified": cve.LastModified.Format(time.RFC3339Nano)}
	if !cve.Published.IsZero() {
		d["published"] = cve.Published.Format(time.RFC3339Nano)
	}
	putString(d, "status", cve.VulnStatus, 64)
	putString(d, "source_identifier", cve.SourceIdentifier, 256)
	truncated := []string{}
	if len(cve.Description) > maxDescriptionBytes {
		truncated = append(truncated, "description")
	}
	putString(d, "description", cve.Description, maxDescriptionBytes)
	ratings := []ratingJSON{}
	for _, r := range cve.CVSS {
		if len(ratings) == maxRatings || len(r.Vector) > maxVectorBytes || r.Vector == "" {
			truncated = append(truncated, "ratings")
			continue
		}
		ratings = append(ratings, ratingJSON{Version: r.Version, Vector: r.Vector, BaseScore: r.BaseScore,
			Severity: cut(r.Severity, 32), Source: cut(r.Source, 256), Type: cut(r.Type, 32)})
	}
	if len(ratings) > 0 {
		d["ratings"] = ratings
	}
	if cwes := bounded(cve.CWEs, maxCWEs, 14); len(cwes) > 0 {
		d["cwes"] = cwes
	}
	if refs := bounded(cve.References, maxReferences, maxReferenceBytes); len(refs) > 0 {
		d["references"] = refs
		if len(refs) < len(cve.References) {
			d["references_total"] = len(cve.References)
			truncated = append(truncated, "references")
		}
	}
	if cpes := bounded(cve.CPEs, maxCPEs, maxCPEBytes); len(cpes) > 0 {
		d["cpes"] = cpes
		if len(cpes) < len(cve.CPEs) {
			d["cpes_total"] = len(cve.CPEs)
			truncated = append(truncated, "cpes")
		}
	}
	if len(truncated) > 0 {
		slices.Sort(truncated)
		sum.Warnings = append(sum.Warnings, feeds.Warning{Code: WarnTruncated, Record: -1,
			Msg: fmt.Sprintf("%s: cut to the event's bounds: %s", cve.ID, strings.Join(slices.Compact(truncated), ", "))})
	}
	return d
}

// bounded keeps at most n items of at most size bytes (longer items are dropped).
func bounded(items []string, n, size int) []string {
	out := make([]string, 0, min(len(items), n))
	for _, s := range items {
		if len(out) == n {
			break
		}
		if s != "" && len(s) <= size {
			out = append(out, s)
		}
	}
	return out
}

// FindingExploitability is a finding's exploitability as the catalogue knows it.
type FindingExploitability struct {
	CVEs           []string `json:"cves"`
	KEV            bool     `json:"kev"`
	EPSS           *float64 `json:"epss,omitempty"`
	EPSSPercentile *float64 `json:"epss_percentile,omitempty"`
}

// Finding reports a finding's current exploitability (from its events) as of the last sync.
func (c *Catalogue) Finding(id string) (FindingExploitability, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.findings[id]
	if f == nil {
		return FindingExploitability{}, false
	}
	out := FindingExploitability{CVEs: slices.Clone(f.cves), KEV: f.kev}
	if f.hasEPSS {
		e, p := f.epss, f.pct
		out.EPSS, out.EPSSPercentile = &e, &p
	}
	return out, true
}

// OpenKEVFindings lists the findings of an asset that are KEV-listed and still need attention
// (open, triaged, in remediation or reopened), sorted: what a KEV alert is due for when the
// asset becomes a production asset. It answers from the lookup as it stands (the follower
// started by Start keeps it current).
func (c *Catalogue) OpenKEVFindings(assetID string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for id, f := range c.findings {
		if f.asset == assetID && f.kev && (&vulns.Finding{Status: f.status}).Active() {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// CVEs returns the ids of the CVEs the catalogue holds, sorted.
func (c *Catalogue) CVEs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Sorted(maps.Keys(c.cves))
}
