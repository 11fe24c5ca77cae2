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
	// ScanSuppressed: opened or seen, and recorded in the state the report's own verdict names
	// (ScanFinding.Suppressed).
	ScanSuppressedOpened
	ScanSuppressedSeen
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
	Opened func() contracts.FindingOpenedV2
	// Criticality of the finding's asset: with Severity, it picks the SLA of a new finding.
	Criticality string
	// Suppressed, when set, is the report's verdict that the finding needs no work: a new or
	// active finding is recorded in that state (and gets no SLA due date).
	Suppressed *Suppression
}

// Suppression is a report's verdict on a finding, in the lifecycle's words.
type Suppression struct {
	// Status is what the finding becomes: StatusFalsePositive, StatusResolved or
	// StatusRiskAccepted.
	Status domain.Status
	// Reason is the justification recorded with it: the report's words and where they were read.
	Reason string
}

// ReportAcceptance is how long a risk acceptance read from a report lasts: the SLA saga reopens
// the finding after it, and the next scan that still carries the verdict accepts it again. The
// window starts when the platform reads the verdict (the import), not at the scan time the
// report states: dated from an old report's scan, the acceptance would expire on arrival, and
// whether the saga reopened the finding before or after the next import would decide what that
// import resolves.
const ReportAcceptance = 90 * 24 * time.Hour

// ReportApprover is the approver recorded for a risk acceptance read from a report.
const ReportApprover = "scan report"

// suppress returns the changes that move agg into the state s names; a risk acceptance lasts
// until acceptedUntil.
func suppress(agg domain.Finding, s *Suppression, scanID string, at, acceptedUntil time.Time) ([]es.Change, error) {
	switch s.Status {
	case domain.StatusFalsePositive:
		return agg.MarkFalsePositive(s.Reason)
	case domain.StatusResolved:
		return agg.Resolve(s.Reason, scanID, at)
	case domain.StatusRiskAccepted:
		return agg.AcceptRisk(ReportApprover, s.Reason, acceptedUntil, at)
	}
	return nil, fmt.Errorf("suppression to %q: not a state a report can name", s.Status)
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
	// Now is the clock a report's risk acceptance is dated from (default time.Now).
	Now func() time.Time
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
	return each(ctx, r.workers, fs, done, func(ctx context.Context, sf ScanFinding) (ScanOutcome, error) {
		return r.seen(ctx, meta, scanID, at, sf)
	})
}

// Missed records that scanID did not see findings of its scope: active findings are resolved,
// resolved ones closed (the fix is verified), the others left as they are. done is called as
// Seen's is.
func (r *ScanRecorder) Missed(ctx context.Context, meta es.Meta, scanID string, at time.Time, ids []string, done func(ScanOutcome)) error {
	return each(ctx, r.workers, ids, done, func(ctx context.Context, id string) (ScanOutcome, error) {
		return r.missed(ctx, meta, scanID, at, id)
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
			if sf.Suppressed != nil {
				o = ScanSuppressedOpened
			}
			changes, err = r.open(sf, scanID, at)
		case sf.Suppressed != nil && sf.Suppressed.Status == domain.StatusResolved &&
			(agg.Status == domain.StatusResolved || agg.Status == domain.StatusClosed):
			// The report still says it is fixed: seen, not reopened.
			o = ScanSeen
			changes = []es.Change{{Type: contracts.TypeFindingSeen, Data: seenData(agg, sf.Severity, scanID, at)}}
		case sf.Suppressed != nil && agg.Active():
			o = ScanSuppressedSeen
			changes = []es.Change{{Type: contracts.TypeFindingSeen, Data: seenData(agg, sf.Severity, scanID, at)}}
			more, serr := r.suppressAfter(agg, changes, sf.ID, sf.Suppressed, scanID, at)
			changes, err = append(changes, more...), serr
		case agg.Status == domain.StatusResolved || agg.Status == domain.StatusClosed:
			o = ScanReopened
			changes, err = agg.Reopen("seen again by scan "+scanID, scanID, at)
			if err == nil && sf.Severity != agg.Severity {
				changes = append(changes, es.Change{Type: contracts.TypeFindingSeen, Data: seenData(agg, sf.Severity, scanID, at)})
			}
			if err == nil && sf.Suppressed != nil {
				// Back, but with the report's verdict (false positive, accepted): reopened and
				// moved into that state at once.
				more, serr := r.suppressAfter(agg, changes, sf.ID, sf.Suppressed, scanID, at)
				changes, err = append(changes, more...), serr
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

// suppressAfter returns the changes that move agg, once changes are applied to it, into the
// state s names.
func (r *ScanRecorder) suppressAfter(agg domain.Finding, changes []es.Change, id string, s *Suppression, scanID string, at time.Time) ([]es.Change, error) {
	for _, c := range changes {
		raw, err := json.Marshal(c.Data)
		if err != nil {
			return nil, err
		}
		if err := agg.Apply(&events.Envelope{StreamID: id, Type: c.Type, Data: raw}); err != nil {
			return nil, err
		}
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	from := now().UTC()
	if at.After(from) {
		from = at
	}
	return suppress(agg, s, scanID, at, from.Add(ReportAcceptance))
}

// open builds FindingOpened and, from the SLA policy, FindingDueDateSet; a finding the report
// suppresses is moved into the state it names instead, with no due date.
func (r *ScanRecorder) open(sf ScanFinding, scanID string, at time.Time) ([]es.Change, error) {
	d := sf.Opened()
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	changes := []es.Change{{Type: contracts.TypeFindingOpened, Data: json.RawMessage(raw)}}
	if sf.Suppressed != nil {
		more, err := r.suppressAfter(domain.Finding{}, changes, sf.ID, sf.Suppressed, scanID, at)
		return append(changes, more...), err
	}
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

// each records items with record on up to workers goroutines, calling done with the outcome of
// each one recorded, and stops at the first error.
func each[T any](ctx context.Context, workers int, items []T, done func(ScanOutcome), record func(context.Context, T) (ScanOutcome, error)) error {
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
				o, err := record(ctx, it)
				if err != nil {
					once.Do(func() { first = err; cancel() })
					continue
				}
				done(o)
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
