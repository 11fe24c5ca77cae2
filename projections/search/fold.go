package search

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/assets"
	"github.com/socplatform/soc/projections/readkit"
	"github.com/socplatform/soc/projections/vulns"
	"github.com/socplatform/soc/schemas/contracts"
)

// The fold turns the log into documents. It declares no lifecycle rule of its own: finding
// events are applied by projections/vulns' ApplyFinding, CVE events by its ApplyCVE and asset
// events by projections/assets' ApplyAsset, so what the search box shows of a finding, an
// asset or a CVE is what their lists show. What the fold adds is the denormalisation a search
// document needs (a finding carries its asset's name, hostnames, addresses, team, environment,
// kind and tags) and the ownership rule of projections/ownership: an asset merged into another
// is owned by its survivor (the end of its merged_into chain), a finding by its asset's owner.
//
// A document's fold state (Doc.State) is the read model's row: a vulns.Finding, a vulns.CVE, or
// an asset's assetState. The index is the fold's checkpoint: each batch starts from the
// documents it loads (Keys, State).
//
// Documents a batch needs that Keys cannot name before the batch is applied — the asset a
// finding points to, the survivors of a merge chain, the findings of an asset whose
// denormalised fields changed, the assets merged into one whose team changed, the audit
// document of a redelivered event — are asked for with a *MissingError: the caller loads them
// into the State and folds the batch again (Fold starts from State each time and never
// changes it, so a second fold is the first one with more known). The usual batches need one
// load (an import's new findings: Keys names their asset) or two (events of findings whose
// asset is not in the batch).

// maxMergeDepth bounds how far a merge chain is followed (projections/ownership's bound: a
// chain is short, the bound only guards against a cycle a damaged index could hold).
const maxMergeDepth = 32

// maxSummary bounds an audit document's Text, in bytes.
const maxSummary = 2048

// Keys returns what a batch's documents are loaded from: ids, the documents to Load (the
// finding and asset streams of the batch, the CVE ids of its CVE events, the asset a finding is
// opened on and the target an asset is merged into), and assetIDs, the assets whose findings
// to load with FindingsOf (those of asset events that usually change what a finding document
// carries of its asset, and the source of a merge, whose findings move). Each id once, in
// first-seen order. Fold asks for anything else it needs (MissingError).
func Keys(batch []events.Envelope) (ids, assetIDs []string) {
	seen, seenA := map[string]bool{}, map[string]bool{}
	add := func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	addA := func(id string) {
		if id != "" && !seenA[id] {
			seenA[id] = true
			assetIDs = append(assetIDs, id)
		}
	}
	for i := range batch {
		e := &batch[i]
		var d struct { // the ids some events carry (an undecodable event is Fold's to report)
			ID            string `json:"id"`
			AssetID       string `json:"asset_id"`
			TargetAssetID string `json:"target_asset_id"`
			SourceAssetID string `json:"source_asset_id"`
		}
		switch {
		case vulns.IsFindingEvent(e.Type):
			add(e.StreamID)
			if e.Type == contracts.TypeFindingOpened && json.Unmarshal(e.Data, &d) == nil {
				add(d.AssetID)
			}
		case assets.IsAssetEvent(e.Type):
			add(e.StreamID)
			_ = json.Unmarshal(e.Data, &d)
			switch e.Type {
			case contracts.TypeAssetUpdated, contracts.TypeAssetClassified:
				addA(e.StreamID)
			case contracts.TypeAssetMergedInto:
				addA(e.StreamID)
				add(d.TargetAssetID)
			case contracts.TypeAssetMerged:
				addA(d.SourceAssetID)
			}
		case isCVEEvent(e.Type):
			if json.Unmarshal(e.Data, &d) == nil {
				add(d.ID)
			}
		}
	}
	return ids, assetIDs
}

// isCVEEvent reports whether events of type t change a CVE (what vulns.ApplyCVE folds).
func isCVEEvent(t string) bool {
	switch t {
	case contracts.TypeCVEPublished, contracts.TypeCVEUpdated, contracts.TypeCVEListedInKEV, contracts.TypeCVEEPSSScored:
		return true
	}
	return false
}

// State is what Fold reads: the documents the index holds for a batch (Load, FindingsOf) and
// which ids were asked for, so that an id asked for and absent is known to be absent. Fold
// never changes it.
type State struct {
	docs       map[string]Doc
	loaded     map[string]bool // ids Load was asked for, present or not
	findingsOf map[string]bool // assets FindingsOf was asked for
}

// NewState returns an empty State.
func NewState() *State {
	return &State{docs: map[string]Doc{}, loaded: map[string]bool{}, findingsOf: map[string]bool{}}
}

// AddLoaded records Index.Load's answer docs for ids.
func (st *State) AddLoaded(ids []string, docs map[string]Doc) {
	for _, id := range ids {
		st.loaded[id] = true
	}
	for id, d := range docs {
		st.docs[id] = d
		st.loaded[id] = true
	}
}

// AddFindings records Index.FindingsOf's answer docs for assetIDs.
func (st *State) AddFindings(assetIDs []string, docs []Doc) {
	for _, id := range assetIDs {
		st.findingsOf[id] = true
	}
	for _, d := range docs {
		st.docs[d.ID] = d
		st.loaded[d.ID] = true
	}
}

// MissingError is Fold's answer when it needs documents State does not have: the caller adds
// Load(IDs) and FindingsOf(FindingsOf) to the State and folds the same batch again. It names
// only what was not asked for yet, so the rounds end.
type MissingError struct {
	IDs        []string
	FindingsOf []string
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("search fold: %d documents and the findings of %d assets are not loaded", len(e.IDs), len(e.FindingsOf))
}

// Fold applies batch to the documents of st and returns the documents to write, each once in
// its final state: the finding, asset and CVE documents the batch changed, the finding
// documents of the assets whose denormalised fields changed (at their unchanged version), and
// one audit document per event. An event whose stream version is not beyond its document's
// Version is skipped (a redelivery), and so is its audit document when the index has it. An
// event that cannot be applied (undecodable, or before its stream's first event) is a
// *projections.EventError; documents st lacks are a *MissingError.
func Fold(st *State, batch []events.Envelope) ([]Doc, error) {
	w, err := newFolder(st)
	if err != nil {
		return nil, err
	}
	for i := range batch {
		if err := w.apply(&batch[i]); err != nil {
			return nil, err
		}
	}
	docs, err := w.emit(batch)
	if err != nil {
		return nil, err
	}
	if len(w.missing.ids)+len(w.missingFindings.ids) > 0 {
		return nil, &MissingError{IDs: w.missing.ids, FindingsOf: w.missingFindings.ids}
	}
	return docs, nil
}

// assetState is an asset document's fold state: the assets read model's row and the assets
// merged into it (AssetMerged), whose documents follow this one's team.
type assetState struct {
	Asset      *assets.Asset `json:"asset"`
	MergedFrom []string      `json:"merged_from,omitempty"`
}

// finding is a finding document being folded.
type finding struct {
	f        *vulns.Finding
	packages []string // set by FindingOpened only, kept from the document after it
}

// cve is a CVE document being folded.
type cve struct {
	c  *vulns.CVE
	at time.Time // the last event's time: the document's At when the record has no last_modified
}

// folder is one fold of a batch over a State.
type folder struct {
	st       *State
	findings map[string]*finding
	assets   map[string]*assetState
	cves     map[string]*cve

	indexed map[string][]string // asset id → the ids of the finding documents State holds on it

	changedF, changedA, changedC idSet                  // in first-change order
	about                        map[string]assetFields // event id → the asset its audit document names
	keep                         map[string]bool        // event ids whose audit document is kept as indexed
	missing, missingFindings     idSet
}

// idSet is a set of ids that remembers their order.
type idSet struct {
	ids []string
	has map[string]bool
}

func (s *idSet) add(id string) {
	if !s.has[id] {
		if s.has == nil {
			s.has = map[string]bool{}
		}
		s.has[id] = true
		s.ids = append(s.ids, id)
	}
}

func newFolder(st *State) (*folder, error) {
	w := &folder{st: st, findings: map[string]*finding{}, assets: map[string]*assetState{}, cves: map[string]*cve{},
		indexed: map[string][]string{}, about: map[string]assetFields{}, keep: map[string]bool{}}
	for _, id := range sortedKeys(st.docs) {
		d := st.docs[id]
		var err error
		switch d.Kind {
		case KindFinding:
			var f vulns.Finding
			if err = json.Unmarshal(d.State, &f); err == nil {
				w.findings[id] = &finding{f: &f, packages: d.Packages}
				w.indexed[d.AssetID] = append(w.indexed[d.AssetID], id)
			}
		case KindAsset:
			var a assetState
			if err = json.Unmarshal(d.State, &a); err == nil && a.Asset == nil {
				err = errors.New("no asset in its state")
			}
			w.assets[id] = &a
		case KindCVE:
			var c vulns.CVE
			if err = json.Unmarshal(d.State, &c); err == nil {
				w.cves[id] = &cve{c: &c, at: d.At}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("search fold: the state of document %s: %w", id, err)
		}
	}
	return w, nil
}

// known reports whether id's document is known (present or known absent); an unknown one is
// recorded as missing.
func (w *folder) known(id string) bool {
	if w.st.loaded[id] {
		return true
	}
	w.missing.add(id)
	return false
}

// findingsKnown is known for FindingsOf(assetID).
func (w *folder) findingsKnown(assetID string) bool {
	if w.st.findingsOf[assetID] {
		return true
	}
	w.missingFindings.add(assetID)
	return false
}

// apply folds one event into the working documents, and notes what its audit document says
// of the asset it concerns as it is right after the event (so the audit trail does not depend
// on where the batches end).
func (w *folder) apply(e *events.Envelope) error {
	assetID := ""
	switch {
	case vulns.IsFindingEvent(e.Type):
		if err := w.applyFinding(e); err != nil {
			return err
		}
		if f := w.findings[e.StreamID]; f != nil {
			assetID = f.f.AssetID
		}
	case assets.IsAssetEvent(e.Type):
		if err := w.applyAsset(e); err != nil {
			return err
		}
		if w.assets[e.StreamID] != nil {
			assetID = e.StreamID
		}
	case isCVEEvent(e.Type):
		return w.applyCVE(e)
	}
	if assetID != "" {
		if fields, ok := w.fieldsOfAsset(assetID); ok {
			w.about[e.EventID] = fields
		}
	}
	return nil
}

func (w *folder) applyFinding(e *events.Envelope) error {
	id := e.StreamID
	cur := w.findings[id]
	if cur == nil && !w.known(id) {
		return nil // folded again once it is loaded
	}
	var before *vulns.Finding
	if cur != nil {
		before = cur.f
	}
	after, err := step(w, before, cur != nil && e.Version <= cur.f.Version, e, vulns.ApplyFinding)
	if after == nil || err != nil {
		return err
	}
	next := &finding{f: after}
	if cur != nil {
		next.packages = cur.packages
	}
	if e.Type == contracts.TypeFindingOpened {
		var d struct {
			Component *contracts.FindingOpenedComponent `json:"component"`
		}
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return projections.Poison(e, err)
		}
		next.packages = nil
		if d.Component != nil && d.Component.Name != "" { // else Component is a location
			next.packages = PackageNames(after.Component, d.Component.PURL)
		}
	}
	w.findings[id] = next
	w.changedF.add(id)
	return nil
}

func (w *folder) applyAsset(e *events.Envelope) error {
	id := e.StreamID
	cur := w.assets[id]
	if cur == nil && !w.known(id) {
		return nil
	}
	var before *assets.Asset
	next := &assetState{}
	if cur != nil {
		before, next.MergedFrom = cur.Asset, cur.MergedFrom
	}
	a, err := step(w, before, cur != nil && e.Version <= cur.Asset.Version, e, assets.ApplyAsset)
	if a == nil || err != nil {
		return err
	}
	next.Asset = a
	if e.Type == contracts.TypeAssetMerged {
		var d contracts.AssetMerged
		if err := json.Unmarshal(e.Data, &d); err != nil || d.SourceAssetID == "" {
			return projections.Poison(e, errors.Join(err, errors.New("AssetMerged without source_asset_id")))
		}
		next.MergedFrom = append(slices.Clone(next.MergedFrom), d.SourceAssetID)
		// The source's findings are the target's now (as the findings read model re-points
		// them): those the index holds (FindingsOf the source, decoded into w.findings) and
		// those this batch has folded so far.
		w.findingsKnown(d.SourceAssetID)
		for _, fid := range sortedKeys(w.findings) {
			if f := w.findings[fid]; f.f.AssetID == d.SourceAssetID {
				moved := *f.f
				moved.AssetID = id
				w.findings[fid] = &finding{f: &moved, packages: f.packages}
				w.changedF.add(fid)
			}
		}
	}
	w.assets[id] = next
	w.changedA.add(id)
	return nil
}

// step applies e to before (nil: no document yet) with apply, the read model's applier, unless
// e is a redelivery. It returns nil when e changes nothing.
func step[T any](w *folder, before *T, redelivery bool, e *events.Envelope, apply func(*T, *events.Envelope) (*T, error)) (*T, error) {
	if redelivery {
		w.redelivered(e)
		return nil, nil
	}
	after, err := apply(before, e)
	if err != nil {
		return nil, projections.Poison(e, err)
	}
	if after == before {
		return nil, nil
	}
	return after, nil
}

// redelivered notes an event already applied: its audit document, written then, names the
// asset as it was right after the event, which the fold no longer knows. It is kept as
// written; only when the index lacks it (a write that failed half-way on a backend without
// atomic writes) is it written again, naming the asset as it is now. (A CVE event's audit
// document names no asset: writing it again changes nothing, and needs no load.)
func (w *folder) redelivered(e *events.Envelope) {
	if isCVEEvent(e.Type) {
		return
	}
	if w.known(e.EventID) {
		if _, ok := w.st.docs[e.EventID]; ok {
			w.keep[e.EventID] = true
		}
	}
}

func (w *folder) applyCVE(e *events.Envelope) error {
	var d struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(e.Data, &d); err != nil || d.ID == "" {
		return projections.Poison(e, errors.Join(err, errors.New("CVE event without id")))
	}
	cur := w.cves[d.ID]
	if cur == nil && !w.known(d.ID) {
		return nil
	}
	var before *vulns.CVE
	if cur != nil {
		before = cur.c
	}
	c, err := step(w, before, cur != nil && e.Version <= cur.c.Version, e, vulns.ApplyCVE)
	if c == nil || err != nil {
		return err
	}
	w.cves[d.ID] = &cve{c: c, at: readkit.EventTime(e)}
	w.changedC.add(d.ID)
	return nil
}

// assetFields is what a document carries of an asset.
type assetFields struct {
	AssetID, AssetName           string
	Hostnames, IPs, Tags         []string
	Team, Environment, AssetKind string
}

func (f assetFields) setOn(d *Doc) {
	d.AssetID, d.AssetName, d.Hostnames, d.IPs, d.Tags = f.AssetID, f.AssetName, f.Hostnames, f.IPs, f.Tags
	d.Team, d.Environment, d.AssetKind = f.Team, f.Environment, f.AssetKind
}

func fieldsOf(d *Doc) assetFields {
	return assetFields{AssetID: d.AssetID, AssetName: d.AssetName, Hostnames: d.Hostnames, IPs: d.IPs, Tags: d.Tags,
		Team: d.Team, Environment: d.Environment, AssetKind: d.AssetKind}
}

func (f assetFields) equal(g assetFields) bool {
	return f.AssetID == g.AssetID && f.AssetName == g.AssetName && f.Team == g.Team && f.Environment == g.Environment &&
		f.AssetKind == g.AssetKind && slices.Equal(f.Hostnames, g.Hostnames) && slices.Equal(f.IPs, g.IPs) && slices.Equal(f.Tags, g.Tags)
}

// asset returns asset id's working state (nil when absent) and whether it is known.
func (w *folder) asset(id string) (*assetState, bool) {
	if a := w.assets[id]; a != nil {
		return a, true
	}
	return nil, w.known(id)
}

// fieldsOfAsset returns what documents carry of asset id (just the id when the index has no
// such asset), and false when that needs documents not loaded yet.
func (w *folder) fieldsOfAsset(id string) (assetFields, bool) {
	s, ok := w.asset(id)
	if !ok || s == nil {
		return assetFields{AssetID: id}, ok
	}
	team, ok := w.team(s.Asset)
	a := s.Asset
	return assetFields{
		AssetID: id, AssetName: a.Name, Hostnames: readkit.NonEmpty(a.Identifiers["hostnames"]), IPs: canonicalIPs(a.Identifiers["ips"]),
		Tags: readkit.NonEmpty(a.Tags), Team: team, Environment: a.Environment, AssetKind: a.Kind,
	}, ok
}

// team is the owner of a: its survivor's owner_team (projections/ownership's rule); "" when
// the chain is broken or too long.
func (w *folder) team(a *assets.Asset) (string, bool) {
	for depth := 0; a.MergedInto != ""; depth++ {
		if depth == maxMergeDepth {
			return "", true
		}
		next, ok := w.asset(a.MergedInto)
		if !ok {
			return "", false
		}
		if next == nil {
			return "", true
		}
		a = next.Asset
	}
	return a.OwnerTeam, true
}

// canonicalIPs is ips as net/netip writes them (zones dropped, invalid ones left out: an
// index's ip field refuses them), without duplicates.
func canonicalIPs(ips []string) []string {
	var out []string
	for _, s := range ips {
		if a, err := netip.ParseAddr(s); err == nil {
			if t := a.WithZone("").String(); !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	return out
}

// emit returns the documents of the batch: assets (and, where what findings carry of an asset
// changed, its findings and the assets merged into it), findings, CVEs, then the audit trail.
func (w *folder) emit(batch []events.Envelope) ([]Doc, error) {
	var docs []Doc
	emitF := idSet{ids: slices.Clone(w.changedF.ids), has: maps.Clone(w.changedF.has)}
	queue := idSet{ids: slices.Clone(w.changedA.ids), has: maps.Clone(w.changedA.has)}
	for i := 0; i < len(queue.ids); i++ {
		id := queue.ids[i]
		s, ok := w.asset(id)
		if !ok || s == nil {
			continue
		}
		fields, ok := w.fieldsOfAsset(id)
		if !ok {
			continue
		}
		stored, existed := w.st.docs[id]
		moved := existed && !fields.equal(fieldsOf(&stored))
		if !w.changedA.has[id] && !moved {
			continue // an asset merged into a changed one, whose fields did not change
		}
		d, err := assetDoc(s, fields)
		if err != nil {
			return nil, err
		}
		docs = append(docs, d)
		if !moved {
			continue
		}
		// What the asset's findings and the assets merged into it carry of it changed. (An
		// asset new to the index has no findings there: the log opens none before it.)
		if w.findingsKnown(id) {
			for _, fid := range w.indexed[id] {
				emitF.add(fid)
			}
		}
		for _, src := range s.MergedFrom {
			queue.add(src)
		}
	}
	for _, id := range emitF.ids {
		f := w.findings[id]
		if f == nil {
			continue
		}
		fields, ok := w.fieldsOfAsset(f.f.AssetID)
		if !ok {
			continue
		}
		d, err := findingDoc(f, fields)
		if err != nil {
			return nil, err
		}
		docs = append(docs, d)
	}
	for _, id := range w.changedC.ids {
		d, err := cveDoc(w.cves[id])
		if err != nil {
			return nil, err
		}
		docs = append(docs, d)
	}
	var audited idSet // an event delivered twice in a batch has one document
	for i := range batch {
		if id := batch[i].EventID; !w.keep[id] && !audited.has[id] {
			audited.add(id)
			docs = append(docs, w.auditDoc(&batch[i]))
		}
	}
	return docs, nil
}

func assetDoc(s *assetState, fields assetFields) (Doc, error) {
	state, err := json.Marshal(s)
	if err != nil {
		return Doc{}, err
	}
	a := s.Asset
	d := Doc{ID: a.ID, Kind: KindAsset, Version: a.Version, Title: a.Name, Text: a.Description, At: a.UpdatedAt, Status: a.Status, State: state}
	fields.setOn(&d)
	return d, nil
}

func findingDoc(fd *finding, fields assetFields) (Doc, error) {
	f := fd.f
	state, err := json.Marshal(f)
	if err != nil {
		return Doc{}, err
	}
	var cves []string
	for _, c := range f.CVEs {
		cves = append(cves, strings.ToUpper(c))
	}
	d := Doc{
		ID: f.ID, Kind: KindFinding, Version: f.Version, Title: f.Title, Text: joinNonEmpty(f.Description, f.Remediation), At: f.UpdatedAt,
		Severity: f.Severity, Status: f.Status, CVEs: cves, CWEs: readkit.NonEmpty(f.CWEs), Packages: readkit.NonEmpty(fd.packages),
		KEV: f.KEV, CVSS: f.CVSSScore, EPSS: f.EPSS, Scanner: f.Format, State: state,
	}
	fields.setOn(&d)
	return d, nil
}

func cveDoc(c *cve) (Doc, error) {
	state, err := json.Marshal(c.c)
	if err != nil {
		return Doc{}, err
	}
	at := c.at
	if c.c.LastModified != nil {
		at = *c.c.LastModified
	}
	return Doc{
		ID: c.c.ID, Kind: KindCVE, Version: c.c.Version, Title: c.c.ID, Text: c.c.Description, At: at,
		Severity: CVSSSeverity(c.c.CVSSScore), CVEs: []string{strings.ToUpper(c.c.ID)}, CWEs: readkit.NonEmpty(c.c.CWEs),
		KEV: c.c.KEV, CVSS: c.c.CVSSScore, EPSS: c.c.EPSS, State: state,
	}, nil
}

// CVSSSeverity is a CVE's severity from its CVSS base score, in NVD's bands (CVSS v3/v4
// qualitative ratings): 9.0–10 critical, 7.0–8.9 high, 4.0–6.9 medium, 0.1–3.9 low. NVD calls
// 0.0 "none"; the platform's lowest severity, info, stands for it. No score, no severity.
func CVSSSeverity(score *float64) string {
	switch {
	case score == nil:
		return ""
	case *score >= 9:
		return "critical"
	case *score >= 7:
		return "high"
	case *score >= 4:
		return "medium"
	case *score > 0:
		return "low"
	}
	return "info"
}

// auditDoc is an event's audit-trail document, with the asset it concerns (an asset event's,
// a finding event's finding's) as the event left it.
func (w *folder) auditDoc(e *events.Envelope) Doc {
	d := Doc{ID: e.EventID, Kind: KindEvent, Version: 1, Title: e.Type, EventType: e.Type, Actor: e.Actor, StreamID: e.StreamID,
		At: readkit.EventTime(e), Text: Summary(e.Data)}
	if f, ok := w.about[e.EventID]; ok {
		d.AssetID, d.AssetName, d.Team = f.AssetID, f.AssetName, f.Team
	}
	return d
}

// Summary is an audit document's text: the string values of an event's data, in key order,
// one a line, at most maxSummary bytes (cut at a character). Values under a key that names a
// secret (hash, secret, token, password: identity events carry only hashes, but a hash is no
// search term either) are left out, with everything below them.
func Summary(data json.RawMessage) string {
	var v any
	if json.Unmarshal(data, &v) != nil {
		return ""
	}
	var b strings.Builder
	var walk func(v any) bool // false once full
	walk = func(v any) bool {
		switch v := v.(type) {
		case string:
			if v == "" {
				return true
			}
			if b.Len() > 0 {
				v = "\n" + v
			}
			if b.Len()+len(v) > maxSummary {
				v = v[:maxSummary-b.Len()]
				for !utf8.ValidString(v) {
					v = v[:len(v)-1]
				}
				b.WriteString(v)
				return false
			}
			b.WriteString(v)
		case []any:
			for _, x := range v {
				if !walk(x) {
					return false
				}
			}
		case map[string]any:
			for _, k := range sortedKeys(v) {
				if secretKey(k) {
					continue
				}
				if !walk(v[k]) {
					return false
				}
			}
		}
		return true
	}
	walk(v)
	return strings.TrimSpace(b.String())
}

func secretKey(k string) bool {
	k = strings.ToLower(k)
	for _, s := range []string{"hash", "secret", "token", "password"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

func joinNonEmpty(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "\n")
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
