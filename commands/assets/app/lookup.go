package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"

	"github.com/socplatform/soc/commands/assets/domain"
	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/snapshot"
	"github.com/socplatform/soc/schemas/contracts"
)

// The lookup's snapshot: its name in the snapshot directory and the version of lookupState.
// Bump the version whenever lookupState or what it holds changes meaning.
const (
	lookupSnapshotName    = "assets-lookup"
	lookupSnapshotVersion = 2 // 2: each asset's owner team
)

// LookupOptions configures a Lookup. Zero fields take the defaults.
type LookupOptions struct {
	// Snapshots is where the lookup is snapshotted (zero: none, every Load replays $all).
	Snapshots snapshot.Dir
	// SnapshotPolicy says how often the follower started by Start writes a snapshot; it also
	// writes one when it stops.
	SnapshotPolicy snapshot.Policy
	// ReadBatch is the page size when reading $all (default 1000).
	ReadBatch int
}

// Lookup is the assets context's write-side lookup: the identifier index of every asset
// (domain.Index), each asset's criticality and owner team, folded from the asset streams of
// $all, restored from its snapshot and followed live (snapshot.Follower). It answers the
// uniqueness checks of the asset commands (Claims), what a scan import asks of the assets
// context (discovery, resolution, aliases, criticality) and which team owns an asset, for the
// team scoping of the finding commands (OwnerTeam); the discoveries it records are applied at
// once.
type Lookup struct {
	follow *snapshot.Follower[lookupState]
	disc   *Discoveries

	// discoverMu makes a discovery's match and registration one step, so two imports never
	// register the same new asset twice (in this process; see the scans importer's doc).
	discoverMu sync.Mutex

	// mu makes an event's effect on the index, the criticalities and the versions one step, so
	// a snapshot never holds an index ahead of the versions it records.
	mu          sync.Mutex
	index       *domain.Index
	criticality map[string]string // asset stream id → criticality
	owner       map[string]string // asset stream id → its own owner team (not its survivor's)
	versions    map[string]int64  // asset stream id → last version applied
}

// lookupState is what a snapshot holds. The per-stream versions make the events replayed after
// a restore that it already includes (discoveries applied at once) no-ops.
type lookupState struct {
	Assets      []domain.IndexEntry
	Versions    map[string]int64
	Criticality map[string]string
	Owners      map[string]string
}

var _ Claims = (*Lookup)(nil)

// NewLookup returns a Lookup over store; call Load or Start before use (CatchUp loads it too).
// Its discoveries are appended to store.
func NewLookup(store *events.Guarded, opts LookupOptions) *Lookup {
	l := &Lookup{disc: NewDiscoveries(store), index: domain.NewIndex(), criticality: map[string]string{}, owner: map[string]string{}, versions: map[string]int64{}}
	l.follow = snapshot.NewFollower[lookupState](store, lookupFold{l}, snapshot.FollowerConfig{Name: lookupSnapshotName,
		Version: lookupSnapshotVersion, Dir: opts.Snapshots, Policy: opts.SnapshotPolicy, ReadBatch: opts.ReadBatch})
	return l
}

// Load restores the lookup from its snapshot and reads $all after it, up to the head.
func (l *Lookup) Load(ctx context.Context) error { return l.follow.Load(ctx) }

// Start loads, then follows the store live until ctx ends (see snapshot.Follower.Start).
func (l *Lookup) Start(ctx context.Context) error { return l.follow.Start(ctx) }

// Wait blocks until the follower started by Start has stopped and returns why, if it failed.
func (l *Lookup) Wait() error { return l.follow.Wait() }

// CatchUp reads $all up to the head, so that the next answers reflect every asset appended
// before the call (an import calls it before it decides).
func (l *Lookup) CatchUp(ctx context.Context) error { return l.follow.CatchUp(ctx) }

// SaveSnapshot writes a snapshot of the lookup now (a no-op without LookupOptions.Snapshots).
func (l *Lookup) SaveSnapshot() error { return l.follow.SaveSnapshot() }

// Position is the global position of the last event of $all the lookup read.
func (l *Lookup) Position() int64 { return l.follow.Position() }

// Claimed implements Claims from the index.
func (l *Lookup) Claimed(kind domain.AssetKind, ids domain.Identifiers, except string) []domain.Claim {
	return l.index.Claimed(kind, ids, except)
}

// Criticality is the asset's criticality ("" when unrated or unknown).
func (l *Lookup) Criticality(assetID string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.criticality[assetID]
}

// OwnerTeam is the team that owns the asset now, as the read side's rule has it
// (projections/ownership): its owner_team, or its survivor's when it was merged into another;
// "" when no team owns it. known is false for an asset the lookup has not read (CatchUp to see
// the head).
func (l *Lookup) OwnerTeam(assetID string) (team string, known bool) {
	if _, _, _, known = l.index.Lookup(assetID); !known {
		return "", false
	}
	// Under mu, as apply: the survivor and the owners are of the same events.
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.owner[l.index.Survivor(assetID)], true
}

// Aliases are the assets merged into assetID (see domain.Index.Aliases).
func (l *Lookup) Aliases(assetID string) []string { return l.index.Aliases(assetID) }

// NoLiveAssetError: a reference names no live asset, or a name several live assets share.
type NoLiveAssetError struct{ Reason string }

func (e *NoLiveAssetError) Error() string { return e.Reason }

// ResolveLive returns the live asset ref names, by id or exact name, as the lookup knows it
// (CatchUp first to see the head), or a *NoLiveAssetError.
func (l *Lookup) ResolveLive(ref string) (string, error) {
	if domain.IsAssetID(ref) {
		if _, _, retired, ok := l.index.Lookup(ref); !ok || retired {
			return "", &NoLiveAssetError{Reason: "no live asset has this id"}
		}
		return ref, nil
	}
	var live []string
	for _, id := range l.index.Named(ref) {
		if _, _, retired, ok := l.index.Lookup(id); ok && !retired {
			live = append(live, id)
		}
	}
	switch len(live) {
	case 0:
		return "", &NoLiveAssetError{Reason: "no live asset has this id or name"}
	case 1:
		return live[0], nil
	}
	return "", &NoLiveAssetError{Reason: fmt.Sprintf("%d live assets have this name (%s); pass the id", len(live), strings.Join(live, ", "))}
}

// Sighting is what a scan reports about an asset, in this context's words (domain.Sighting):
// the scans context translates its report assets into it.
type Sighting = domain.Sighting

// AssetKind is an asset's kind.
type AssetKind = domain.AssetKind

// Discovery is what Discover did with a sighting.
type Discovery struct {
	// AssetID is the known asset the sighting matched, or the asset registered for it; "" when
	// it could not be registered (Refused says why).
	AssetID    string
	Registered bool  // AssetID is a new asset
	Refused    error // the domain refused to register the sighting as an asset
	// IdentifiersRefused: the sighting matched, but the identifiers the asset did not have yet
	// were not recorded (why).
	IdentifiersRefused error
}

// Discover matches a sighting of scanID against the known live assets: a match records the
// identifiers the asset did not have yet, no match registers a new asset. What it appends is
// applied to the lookup at once. A refusal of the domain is reported in the Discovery, not as
// an error; an error means the store failed.
func (l *Lookup) Discover(ctx context.Context, meta es.Meta, scanID string, s Sighting) (Discovery, error) {
	l.discoverMu.Lock()
	defer l.discoverMu.Unlock()
	p := l.index.Plan(s)
	if !p.Matched() {
		if p.Problem != nil {
			return Discovery{Refused: p.Problem}, nil
		}
		id, evs, err := l.disc.RegisterDiscovered(ctx, meta, domain.RegisterAsset{Kind: p.Kind, Name: p.Name, Identifiers: p.Identifiers, ScanID: scanID})
		if refused, ok := errors.AsType[*RefusedError](err); ok {
			return Discovery{Refused: refused}, nil
		}
		if err != nil {
			return Discovery{}, err
		}
		return Discovery{AssetID: id, Registered: true}, l.applyOwn(ctx, evs)
	}
	d := Discovery{AssetID: p.AssetID}
	if p.New.IsEmpty() {
		return d, nil
	}
	evs, err := l.disc.ObserveIdentifiers(ctx, meta, p.AssetID, scanID, p.New)
	if refused, ok := errors.AsType[*RefusedError](err); ok {
		d.IdentifiersRefused = refused
		return d, nil
	}
	if err != nil {
		return Discovery{}, err
	}
	return d, l.applyOwn(ctx, evs)
}

// WeakSighting is a report's asset that has no usable identifier, named by the report's target
// (see domain.WeakKey).
type WeakSighting struct {
	Kind       AssetKind
	Hint, Name string // the target's kind of name ("scan", "image", …) and the name
}

// WeakDiscovery is what DiscoverWeak did.
type WeakDiscovery struct {
	Key        string // the weak key; "" when the target names nothing to identify an asset by
	AssetID    string // the live asset registered with Key, or the one registered now; "" if refused
	Registered bool
	Refused    error // the domain refused to register the asset weakly
}

// DiscoverWeak returns the live asset registered with the sighting's weak key, or registers one
// (applied to the lookup at once). As for Discover, a refusal is reported, not an error.
func (l *Lookup) DiscoverWeak(ctx context.Context, meta es.Meta, scanID string, s WeakSighting) (WeakDiscovery, error) {
	d := WeakDiscovery{Key: domain.WeakKey(s.Hint, s.Name)}
	if d.Key == "" {
		return d, nil
	}
	l.discoverMu.Lock()
	defer l.discoverMu.Unlock()
	if id, ok := l.index.Weak(d.Key); ok {
		d.AssetID = id
		return d, nil
	}
	id, evs, err := l.disc.RegisterWeakly(ctx, meta, domain.RegisterWeak{Kind: s.Kind, Name: s.Name, WeakKey: d.Key, ScanID: scanID})
	if refused, ok := errors.AsType[*RefusedError](err); ok {
		d.Refused = refused
		return d, nil
	}
	if err != nil {
		return WeakDiscovery{}, err
	}
	d.AssetID, d.Registered = id, true
	return d, l.applyOwn(ctx, evs)
}

// applyOwn applies the events a discovery just appended to one stream, at once, so the next
// discovery sees them. When the stream has events the lookup has not read yet (a person
// classified the asset since the last catch-up), applying ours would skip those for good: the
// lookup then catches up with $all instead, which holds ours too.
func (l *Lookup) applyOwn(ctx context.Context, evs []events.Envelope) error {
	if len(evs) == 0 {
		return nil
	}
	l.mu.Lock()
	next := evs[0].Version == l.versions[evs[0].StreamID]+1
	l.mu.Unlock()
	if !next {
		return l.CatchUp(ctx)
	}
	for i := range evs {
		if err := l.apply(&evs[i]); err != nil {
			return err
		}
	}
	return nil
}

// apply applies one event of an asset stream. Events at or below the version already applied
// are skipped: discoveries are applied at once and met again in $all, and a snapshot may hold
// events beyond the position it was taken at.
func (l *Lookup) apply(e *events.Envelope) error {
	if !domain.IsAssetID(e.StreamID) {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if e.Version <= l.versions[e.StreamID] {
		return nil
	}
	if err := l.index.Apply(e); err != nil {
		return err
	}
	l.versions[e.StreamID] = e.Version
	if e.Type != contracts.TypeAssetRegistered && e.Type != contracts.TypeAssetClassified {
		return nil
	}
	// owner_team: absent leaves it (a classification of other fields), "" clears it.
	var d struct {
		Criticality string  `json:"criticality"`
		OwnerTeam   *string `json:"owner_team"`
	}
	if err := json.Unmarshal(e.Data, &d); err != nil {
		return fmt.Errorf("%s %s: %w", e.Type, e.StreamID, err)
	}
	if d.Criticality != "" {
		l.criticality[e.StreamID] = d.Criticality
	}
	switch {
	case d.OwnerTeam == nil:
	case *d.OwnerTeam == "":
		delete(l.owner, e.StreamID)
	default:
		l.owner[e.StreamID] = *d.OwnerTeam
	}
	return nil
}

// lookupFold is the Lookup as its snapshot.Follower sees it.
type lookupFold struct{ l *Lookup }

func (f lookupFold) Apply(e *events.Envelope) error { return f.l.apply(e) }

func (f lookupFold) Capture() lookupState {
	l := f.l
	l.mu.Lock()
	defer l.mu.Unlock()
	return lookupState{Assets: l.index.Entries(), Versions: maps.Clone(l.versions), Criticality: maps.Clone(l.criticality),
		Owners: maps.Clone(l.owner)}
}

func (f lookupFold) Restore(st lookupState) {
	l := f.l
	l.mu.Lock()
	defer l.mu.Unlock()
	l.index.Restore(st.Assets)
	if st.Versions != nil {
		l.versions = st.Versions
	}
	if st.Criticality != nil {
		l.criticality = st.Criticality
	}
	if st.Owners != nil {
		l.owner = st.Owners
	}
}
