package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/vulns/domain"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
)

// ScanOutcome is what recording one finding of a scan did.
type ScanOutcome int

// The outcomes; ScanNone: nothing was appended (a finding in a state the scan does not change).
const (
	ScanNone ScanOutcome = iota
	ScanOpened
	ScanSeen // seen again, its state unchanged
	ScanReopened
	ScanResolved
	ScanClosed
)

// Catalogue is the in-memory state the scan recorder decides on, so that an import of thousands
// of findings reads no stream: every finding's aggregate and stream version. The scans importer's
// lookup implements it (it follows $all).
type Catalogue interface {
	// Finding returns a copy of the finding's state; ok false when the catalogue does not know it.
	Finding(id string) (f domain.Finding, version int64, ok bool)
	// Recorded applies the events the recorder has just appended to a finding's stream.
	Recorded(id string, evs []events.Envelope, res events.AppendResult) error
	// CatchUp applies what others appended since; the recorder calls it after losing a race.
	CatchUp(ctx context.Context) error
}

// ScanFinding is one finding a scan reported.
type ScanFinding struct {
	ID       string // the finding's stream id
	Severity domain.Severity
	// Opened builds the FindingOpened data, called only when the finding is new.
	Opened func() contracts.FindingOpened
	// Criticality of the finding's asset: with Severity, it picks the SLA of a new finding.
	Criticality string
}

// ScanRecorder records what scans saw of findings: it owns the finding streams' appends of an
// import (the scans context asks through its FindingRecorder port). Each call takes a batch and
// decides and appends its findings on several goroutines, so the store's group commit has
// appends to batch.
type ScanRecorder struct {
	store   es.Store
	sla     domain.SLAPolicy
	cat     Catalogue
	workers int
}

// NewScanRecorder returns a recorder appending to store; sla sets new findings' due dates,
// workers (default 64) is how many findings are decided and appended at once.
func NewScanRecorder(store es.Store, sla domain.SLAPolicy, cat Catalogue, workers int) *ScanRecorder {
	if workers <= 0 {
		workers = 64
	}
	return &ScanRecorder{store: store, sla: sla, cat: cat, workers: workers}
}

// maxAttempts bounds the retries of a finding append that lost a race with another writer.
const maxAttempts = 4

// Seen records that scanID saw each finding at at: opened (with the SLA's due date), reopened
// (was resolved or closed), or seen again. done is called once a finding is recorded, possibly
// from several goroutines at once. It stops at the first error.
func (r *ScanRecorder) Seen(ctx context.Context, meta es.Meta, scanID string, at time.Time, fs []ScanFinding, done func(ScanOutcome)) error {
	return each(ctx, r.workers, fs, func(ctx context.Context, sf ScanFinding) error {
		o, err := r.seen(ctx, meta, scanID, at, sf)
		if err == nil {
			done(o)
		}
		return err
	})
}

// Missed records that scanID did not see findings of its scope: active findings are resolved,
// resolved ones closed (the fix is verified), the others left as they are. done is called as
// Seen's is.
func (r *ScanRecorder) Missed(ctx context.Context, meta es.Meta, scanID string, at time.Time, ids []string, done func(ScanOutcome)) error {
	return each(ctx, r.workers, ids, func(ctx context.Context, id string) error {
		o, err := r.missed(ctx, meta, scanID, at, id)
		if err == nil {
			done(o)
		}
		return err
	})
}

func (r *ScanRecorder) seen(ctx context.Context, meta es.Meta, scanID string, at time.Time, sf ScanFinding) (ScanOutcome, error) {
	for attempt := 1; ; attempt++ {
		agg, version, known := r.cat.Finding(sf.ID)
		var (
			changes  []es.Change
			o        ScanOutcome
			expected = events.Exact(version)
			err      error
		)
		switch {
		case !known || !agg.Exists():
			expected = events.NoStream
			if known {
				expected = events.Exact(version)
			}
			o = ScanOpened
			changes, err = r.open(sf, at)
		case agg.Status == domain.StatusResolved || agg.Status == domain.StatusClosed:
			o = ScanReopened
			changes, err = agg.Reopen("seen again by scan "+scanID, scanID, at)
			if err == nil && sf.Severity != agg.Severity {
				changes = append(changes, es.Change{Type: contracts.TypeFindingSeen, Data: seenData(agg, sf.Severity, scanID, at)})
			}
		default:
			// Active findings are seen again; false positives, risk-accepted findings and duplicates
			// stay as they are: the scan only records that it saw them.
			o = ScanSeen
			changes = []es.Change{{Type: contracts.TypeFindingSeen, Data: seenData(agg, sf.Severity, scanID, at)}}
		}
		if err != nil {
			return ScanNone, fmt.Errorf("finding %s: %w", sf.ID, err)
		}
		err = r.append(ctx, sf.ID, expected, meta, changes)
		if retry, err := r.retryable(ctx, err, attempt); !retry {
			return o, err
		}
	}
}

func (r *ScanRecorder) missed(ctx context.Context, meta es.Meta, scanID string, at time.Time, id string) (ScanOutcome, error) {
	for attempt := 1; ; attempt++ {
		agg, version, known := r.cat.Finding(id)
		if !known || !agg.Exists() {
			return ScanNone, nil
		}
		var (
			changes []es.Change
			o       ScanOutcome
			err     error
		)
		switch {
		case agg.Active():
			o = ScanResolved
			changes, err = agg.Resolve("not seen by scan "+scanID, scanID, at)
		case agg.Status == domain.StatusResolved:
			o = ScanClosed
			changes, err = agg.Close(scanID, at)
		default:
			return ScanNone, nil
		}
		if err != nil {
			return ScanNone, fmt.Errorf("finding %s: %w", id, err)
		}
		err = r.append(ctx, id, events.Exact(version), meta, changes)
		if retry, err := r.retryable(ctx, err, attempt); !retry {
			return o, err
		}
	}
}

// retryable says whether an append lost a race (a version conflict) and may be decided again
// after catching up with the store.
func (r *ScanRecorder) retryable(ctx context.Context, err error, attempt int) (bool, error) {
	var vc *events.VersionConflictError
	if err == nil || !errors.As(err, &vc) || attempt >= maxAttempts {
		return false, err
	}
	if cerr := r.cat.CatchUp(ctx); cerr != nil {
		return false, cerr
	}
	return true, nil
}

func seenData(agg domain.Finding, sev domain.Severity, scanID string, at time.Time) contracts.FindingSeen {
	d := contracts.FindingSeen{ScanID: scanID, SeenAt: at}
	if sev != agg.Severity {
		d.Severity, d.PreviousSeverity = sev, agg.Severity
	}
	return d
}

// open builds FindingOpened and, from the SLA policy, FindingDueDateSet.
func (r *ScanRecorder) open(sf ScanFinding, at time.Time) ([]es.Change, error) {
	d := sf.Opened()
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	changes := []es.Change{{Type: contracts.TypeFindingOpened, Data: json.RawMessage(raw)}}
	due, ok := r.sla.DueAt(d.Severity, sf.Criticality, at)
	if !ok {
		return changes, nil
	}
	var f domain.Finding
	if err := f.Apply(&events.Envelope{StreamID: sf.ID, Type: contracts.TypeFindingOpened, Data: raw}); err != nil {
		return nil, err
	}
	reason := "SLA for " + string(d.Severity) + " findings"
	if sf.Criticality != "" {
		reason += " on " + sf.Criticality + " assets"
	}
	dc, err := f.SetDueDate(due, reason)
	if err != nil {
		return nil, err
	}
	return append(changes, dc...), nil
}

// append appends a finding's changes and hands them to the catalogue.
func (r *ScanRecorder) append(ctx context.Context, id string, expected events.ExpectedVersion, meta es.Meta, changes []es.Change) error {
	evs, err := es.Envelopes(meta, id, changes)
	if err != nil {
		return err
	}
	res, err := r.store.Append(ctx, id, expected, evs)
	if err != nil {
		return err
	}
	return r.cat.Recorded(id, evs, res)
}

// each runs fn over items on up to workers goroutines, stopping at the first error.
func each[T any](ctx context.Context, workers int, items []T, fn func(context.Context, T) error) error {
	if len(items) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan T)
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for w := 0; w < min(workers, len(items)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range ch {
				if err := fn(ctx, it); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		}()
	}
feed:
	for _, it := range items {
		select {
		case ch <- it:
		case <-ctx.Done():
			break feed
		}
	}
	close(ch)
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}
