package app

import (
	"context"
	"fmt"

	"github.com/socplatform/soc/commands/assets/domain"
	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/events"
)

// Discoveries records what scans find out about assets: assets nobody registered, and
// identifiers a known asset had not shown before. It owns those appends to the asset streams
// (the scans context asks through its AssetRegistry port). Each method returns the events it
// appended, with their stream versions, for the caller's lookups to apply at once.
//
// A refusal of the domain (an asset that cannot be registered as discovered, identifiers that
// cannot be recorded) is a *RefusedError: the import goes on without it.
type Discoveries struct{ store es.Store }

// NewDiscoveries returns Discoveries appending to store.
func NewDiscoveries(store es.Store) *Discoveries { return &Discoveries{store: store} }

// RefusedError: the domain refused to record a discovery; Err says why.
type RefusedError struct{ Err error }

func (e *RefusedError) Error() string { return e.Err.Error() }
func (e *RefusedError) Unwrap() error { return e.Err }

// RegisterDiscovered registers a new asset a scan discovered, under a fresh id.
func (d *Discoveries) RegisterDiscovered(ctx context.Context, meta es.Meta, reg domain.RegisterAsset) (string, []events.Envelope, error) {
	var a domain.Asset
	changes, err := a.Register(reg)
	return d.create(ctx, meta, changes, err)
}

// RegisterWeakly registers, under a fresh id, an asset a scan could only identify by what its
// report names (see domain.WeakKey).
func (d *Discoveries) RegisterWeakly(ctx context.Context, meta es.Meta, reg domain.RegisterWeak) (string, []events.Envelope, error) {
	var a domain.Asset
	changes, err := a.RegisterWeakly(reg)
	return d.create(ctx, meta, changes, err)
}

// create appends a new asset's first changes under a fresh id; refused is the domain's refusal.
func (d *Discoveries) create(ctx context.Context, meta es.Meta, changes []es.Change, refused error) (string, []events.Envelope, error) {
	if refused != nil {
		return "", nil, &RefusedError{Err: refused}
	}
	id := events.NewStreamID("assets", "asset")
	evs, err := d.save(ctx, id, events.NoStream, meta, changes)
	return id, evs, err
}

// ObserveIdentifiers records identifiers scanID saw on a known asset.
func (d *Discoveries) ObserveIdentifiers(ctx context.Context, meta es.Meta, assetID, scanID string, ids domain.Identifiers) ([]events.Envelope, error) {
	var a domain.Asset
	v, err := es.Load(ctx, d.store, assetID, &a)
	if err != nil {
		return nil, err
	}
	changes, err := a.ObserveIdentifiers(scanID, ids)
	if err != nil {
		return nil, &RefusedError{Err: err}
	}
	return d.save(ctx, assetID, events.Exact(v), meta, changes)
}

func (d *Discoveries) save(ctx context.Context, id string, expected events.ExpectedVersion, meta es.Meta, changes []es.Change) ([]events.Envelope, error) {
	if len(changes) == 0 {
		return nil, nil
	}
	evs, err := es.Envelopes(meta, id, changes)
	if err != nil {
		return nil, err
	}
	res, err := d.store.Append(ctx, id, expected, evs)
	if err != nil {
		return nil, fmt.Errorf("asset %s: %w", id, err)
	}
	for i := range evs {
		evs[i].StreamID = id
		evs[i].Version = res.NextExpectedVersion - int64(len(evs)-1-i)
	}
	return evs, nil
}

// ScanTargets are what a scan definition targeting the asset scans: its IP addresses and host
// names, as the store has them now. active is false when the asset is not registered or retired.
func ScanTargets(ctx context.Context, store es.Store, assetID string) (targets []string, active bool, err error) {
	var a domain.Asset
	if _, err := es.Load(ctx, store, assetID, &a); err != nil {
		return nil, false, err
	}
	if a.Status != domain.StatusActive {
		return nil, false, nil
	}
	return append(append([]string(nil), a.Identifiers.IPs...), a.Identifiers.Hostnames...), true, nil
}
