package analytics

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/assets"
	"github.com/socplatform/soc/projections/vulns"
	"github.com/socplatform/soc/schemas/contracts"
)

// The fold turns the log into the rows of facts.go. It declares no lifecycle rule of its own: a
// finding event is applied by projections/vulns' ApplyFinding (the findings read model's code,
// so the statuses, severities, KEV/EPSS and due dates the analytics see are the ones the
// findings list shows), its risk points are vulns.RiskMilli, and an asset event is applied by
// projections/assets' ApplyAsset. What the fold adds is the before/after difference of each
// event, as facts.
//
// Scanned rows: a scanner (a finding's format) scanned an asset at the seen_at of every
// FindingOpened, FindingSeen and FindingReopened (with seen_at) of the asset's findings. The log
// does not record an asset a scan covered without findings: AssetIdentifiersObserved is
// appended only for identifiers the asset did not have yet, and AssetRegistered's scan_id only
// when the import created the asset, so a matched asset with nothing new leaves no event. Using
// those two would make coverage depend on whether an identifier was new; besides, they name
// the scan id but not its format, which only the scans stream carries (ScanImportStarted,
// possibly in another batch, and State holds no scan rows). Coverage therefore means "scanned
// with findings": an asset a scanner covers cleanly shows as stale, which errs on the side of
// the PCI check (someone looks at it).

// Keys returns the finding and asset ids (stream ids) of the dimension rows batch touches, each
// once, in first-seen order.
func Keys(batch []events.Envelope) (findings, assetIDs []string) {
	seenF, seenA := map[string]bool{}, map[string]bool{}
	for i := range batch {
		e := &batch[i]
		switch {
		case vulns.IsFindingEvent(e.Type):
			if !seenF[e.StreamID] {
				seenF[e.StreamID] = true
				findings = append(findings, e.StreamID)
			}
		case assets.IsAssetEvent(e.Type):
			if !seenA[e.StreamID] {
				seenA[e.StreamID] = true
				assetIDs = append(assetIDs, e.StreamID)
			}
		}
	}
	return findings, assetIDs
}

// Fold applies batch to st (the dimension rows of Keys(batch), missing ones absent) and returns
// the batch's facts, scan facts, scanned rows and the final state of every dimension row it
// changed. st is updated in place (a backend may fold several batches on one State). An event
// whose stream version is not beyond its row's Version is skipped (a redelivery). A finding or
// asset event that cannot be applied (undecodable, or before its stream's first event) is a
// *projections.EventError.
func Fold(st *State, batch []events.Envelope) (Output, error) {
	if st.Findings == nil {
		st.Findings = map[string]*FindingDim{}
	}
	if st.Assets == nil {
		st.Assets = map[string]*AssetDim{}
	}
	var out Output
	var changedF, changedA []string
	scanned := map[[2]string]int{} // (asset, scanner) → index in out.Scanned
	for i := range batch {
		e := &batch[i]
		switch {
		case vulns.IsFindingEvent(e.Type):
			dim := st.Findings[e.StreamID]
			if dim != nil && e.Version <= dim.Version {
				continue
			}
			facts, next, seen, err := foldFinding(dim, e)
			if err != nil {
				return Output{}, projections.Poison(e, err)
			}
			if next == nil { // an event the finding ignores
				continue
			}
			out.Facts = append(out.Facts, facts...)
			st.Findings[e.StreamID] = next
			if !slices.Contains(changedF, e.StreamID) {
				changedF = append(changedF, e.StreamID)
			}
			if seen > 0 {
				k := [2]string{next.AssetID, next.Scanner}
				if j, ok := scanned[k]; ok {
					out.Scanned[j].At = max(out.Scanned[j].At, seen)
				} else {
					scanned[k] = len(out.Scanned)
					out.Scanned = append(out.Scanned, Scanned{AssetID: next.AssetID, Scanner: next.Scanner, At: seen})
				}
			}
		case assets.IsAssetEvent(e.Type):
			dim := st.Assets[e.StreamID]
			if dim != nil && e.Version <= dim.Version {
				continue
			}
			next, err := foldAsset(dim, e)
			if err != nil {
				return Output{}, projections.Poison(e, err)
			}
			st.Assets[e.StreamID] = next
			if !slices.Contains(changedA, e.StreamID) {
				changedA = append(changedA, e.StreamID)
			}
		case e.Type == contracts.TypeScanImportCompleted || e.Type == contracts.TypeScanImportFailed:
			var d struct {
				ScanID string `json:"scan_id"`
				Format string `json:"format"`
			}
			if err := json.Unmarshal(e.Data, &d); err != nil {
				return Output{}, projections.Poison(e, err)
			}
			out.Scans = append(out.Scans, ScanFact{EventID: e.EventID, At: eventMillis(e), ScanID: d.ScanID,
				Scanner: d.Format, Failed: e.Type == contracts.TypeScanImportFailed})
		}
	}
	for _, id := range changedF {
		out.Findings = append(out.Findings, *st.Findings[id])
	}
	for _, id := range changedA {
		out.Assets = append(out.Assets, *st.Assets[id])
	}
	return out, nil
}

// businessTimes are the instants finding events carry besides the envelope's.
type businessTimes struct {
	SeenAt     time.Time `json:"seen_at"`
	ResolvedAt time.Time `json:"resolved_at"`
	ClosedAt   time.Time `json:"closed_at"`
	BreachedAt time.Time `json:"breached_at"`
}

// factTime is when a finding event happened in the business sense (facts.go), and the seen_at
// it proves a scan at (0 for none).
func factTime(e *events.Envelope) (at, seen int64, err error) {
	var d businessTimes
	if err := json.Unmarshal(e.Data, &d); err != nil {
		return 0, 0, err
	}
	var t time.Time
	switch e.Type {
	case contracts.TypeFindingOpened, contracts.TypeFindingSeen, contracts.TypeFindingReopened:
		t = d.SeenAt
		if !t.IsZero() {
			seen = t.UnixMilli()
		}
	case contracts.TypeFindingResolved:
		t = d.ResolvedAt
	case contracts.TypeFindingClosed:
		t = d.ClosedAt
	case contracts.TypeSLABreached:
		t = d.BreachedAt
	}
	if t.IsZero() {
		return eventMillis(e), seen, nil
	}
	return t.UnixMilli(), seen, nil
}

// eventMillis is the envelope's time (occurred_at, else recorded_at) in unix milliseconds.
func eventMillis(e *events.Envelope) int64 {
	if !e.OccurredAt.IsZero() {
		return e.OccurredAt.UnixMilli()
	}
	return e.RecordedAt.UnixMilli()
}

// foldFinding applies one finding event to dim (nil before FindingOpened): the facts it makes,
// the new row (nil when the event changes nothing) and the instant it proves a scan at.
func foldFinding(dim *FindingDim, e *events.Envelope) ([]Fact, *FindingDim, int64, error) {
	var before *vulns.Finding
	if dim != nil {
		before = dim.finding()
	}
	after, err := vulns.ApplyFinding(before, e)
	if err != nil {
		return nil, nil, 0, err
	}
	if after == before {
		return nil, nil, 0, nil
	}
	at, seen, err := factTime(e)
	if err != nil {
		return nil, nil, 0, err
	}
	next := &FindingDim{}
	if dim != nil {
		*next = *dim
	} else {
		next.FindingID, next.OpenedAt, next.FirstSeen = e.StreamID, at, at
	}
	next.fromFinding(after)
	next.Version = e.Version

	base := Fact{
		EventID: e.EventID, Position: e.GlobalPosition, At: at, FindingID: e.StreamID, AssetID: next.AssetID, Type: e.Type,
		Severity: next.Severity, StatusAfter: next.Status, Scanner: next.Scanner, CVE: next.CVE, KEV: next.KEV,
		EPSS: next.EPSS, HasEPSS: next.HasEPSS, DueAt: next.DueAt,
	}
	wasOpen := dim != nil && vulns.IsOpen(dim.Status)
	isOpen := vulns.IsOpen(next.Status)
	if dim != nil {
		base.StatusBefore = dim.Status
	}
	if isOpen {
		next.Risk = vulns.RiskMilli(after)
	} else {
		next.Risk = 0
	}
	var riskBefore int64
	if dim != nil {
		riskBefore = dim.Risk
	}
	switch {
	case !wasOpen && isOpen:
		base.OpenDelta = 1
		if e.Type == contracts.TypeFindingReopened {
			next.OpenedAt = at
		}
	case wasOpen && !isOpen:
		base.OpenDelta = -1
		if e.Type == contracts.TypeFindingResolved || e.Type == contracts.TypeFindingClosed {
			base.Duration = at - dim.OpenedAt
		}
	}
	if e.Type == contracts.TypeFindingTriaged && next.TriagedAt == 0 {
		next.TriagedAt = at
		base.Duration = at - next.FirstSeen
	}
	if wasOpen && isOpen && dim.Severity != next.Severity {
		// The finding moves from one severity to another: it leaves the old one with its old
		// points and enters the new one with its new points.
		leave := base
		leave.Severity, leave.OpenDelta, leave.RiskDelta = dim.Severity, -1, -riskBefore
		enter := base
		enter.Seq, enter.OpenDelta, enter.RiskDelta = 1, 1, next.Risk
		return []Fact{leave, enter}, next, seen, nil
	}
	base.RiskDelta = next.Risk - riskBefore
	return []Fact{base}, next, seen, nil
}

// finding is the part of the findings read model's row the analytics keep, for ApplyFinding.
func (d *FindingDim) finding() *vulns.Finding {
	f := &vulns.Finding{ID: d.FindingID, AssetID: d.AssetID, Severity: d.Severity, Status: d.Status, Format: d.Scanner,
		KEV: d.KEV, Version: d.Version}
	if d.CVE != "" {
		f.CVEs = []string{d.CVE}
	}
	if d.HasEPSS {
		v := d.EPSS
		f.EPSS = &v
	}
	if d.DueAt != 0 {
		t := time.UnixMilli(d.DueAt).UTC()
		f.DueAt = &t
	}
	return f
}

// fromFinding copies what the analytics keep of f into d.
func (d *FindingDim) fromFinding(f *vulns.Finding) {
	d.AssetID, d.Severity, d.Status, d.Scanner, d.KEV = f.AssetID, f.Severity, f.Status, f.Format, f.KEV
	d.CVE = ""
	if len(f.CVEs) > 0 {
		d.CVE = f.CVEs[0]
	}
	d.EPSS, d.HasEPSS = 0, f.EPSS != nil
	if f.EPSS != nil {
		d.EPSS = *f.EPSS
	}
	d.DueAt = 0
	if f.DueAt != nil {
		d.DueAt = f.DueAt.UnixMilli()
	}
}

// foldAsset applies one asset event to dim (nil before the asset's first event).
func foldAsset(dim *AssetDim, e *events.Envelope) (*AssetDim, error) {
	var before *assets.Asset
	if dim != nil {
		before = &assets.Asset{ID: dim.AssetID, Name: dim.Name, Kind: dim.Kind, OwnerTeam: dim.Team, Environment: dim.Environment,
			Tags: slices.Clone(dim.Tags), Criticality: dim.Criticality, MergedInto: dim.MergedInto, Version: dim.Version}
	}
	a, err := assets.ApplyAsset(before, e)
	if err != nil {
		return nil, err
	}
	return &AssetDim{AssetID: e.StreamID, Name: a.Name, Kind: a.Kind, Team: a.OwnerTeam, Environment: a.Environment,
		Tags: slices.Clone(a.Tags), Criticality: a.Criticality, MergedInto: a.MergedInto, Version: e.Version}, nil
}
