package analyticstest

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/eventstest"
	"github.com/socplatform/soc/schemas/contracts"
)

// Log builds a scenario's events as the store records them: per-stream versions from 1, global
// positions, and times from a controlled clock (Now, moved by the scenario). Every payload is a
// generated contracts type validated against its published schema, so a scenario cannot drift
// from what the producers append.
type Log struct {
	tb       testing.TB
	reg      *events.Registry
	Now      time.Time
	Events   []events.Envelope
	versions map[string]int64
	validate bool
	checked  map[string]bool
}

var (
	regOnce sync.Once
	reg     *events.Registry
)

// NewLog starts an empty log whose clock reads start.
func NewLog(tb testing.TB, start time.Time) *Log {
	tb.Helper()
	regOnce.Do(func() { reg = eventstest.Registry(tb) })
	if reg == nil {
		tb.Fatal("the event registry failed to load (see the first test that needed it)")
	}
	return &Log{tb: tb, reg: reg, Now: start.UTC(), versions: map[string]int64{}, validate: true, checked: map[string]bool{}}
}

// ValidateFirstOnly makes the log validate only the first event of each type and schema
// version (large random scenarios: the schemas are checked, the time goes to the backend).
func (l *Log) ValidateFirstOnly() { l.validate = false }

// Advance moves the clock.
func (l *Log) Advance(d time.Duration) { l.Now = l.Now.Add(d) }

// Emit appends an event of type typ and schema version sv with data at the clock's time.
func (l *Log) Emit(stream, typ string, sv int, data any) events.Envelope {
	l.tb.Helper()
	b, err := json.Marshal(data)
	if err != nil {
		l.tb.Fatal(err)
	}
	key := fmt.Sprintf("%s.v%d", typ, sv)
	if l.validate || !l.checked[key] {
		l.checked[key] = true
		if _, err := l.reg.Validate(0, typ, sv, b); err != nil {
			l.tb.Fatalf("%s %s does not match its schema: %v", key, b, err)
		}
	}
	pos := int64(len(l.Events)) + 1
	l.versions[stream]++
	e := events.Envelope{
		EventID: fmt.Sprintf("0190%04x-0000-7000-8000-%012x", pos>>48, pos), StreamID: stream,
		StreamType: events.StreamTypeOf(stream), Version: l.versions[stream], GlobalPosition: pos, Type: typ,
		SchemaVersion: sv, OccurredAt: l.Now, RecordedAt: l.Now, Actor: "user:alice", Data: b,
	}
	l.Events = append(l.Events, e)
	return e
}

func uuidN(kind, n int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", kind, n) }

// AssetID, FindingID and ScanID are the test ids of asset, finding and scan n.
func AssetID(n int) string   { return "assets-asset-" + uuidN(1, n) }
func FindingID(n int) string { return "vulns-finding-" + uuidN(2, n) }
func ScanID(n int) string    { return uuidN(4, n) }
func scanStream(n int) string {
	return "scans-import-" + uuidN(4, n)
}

// AssetSpec describes an asset to register.
type AssetSpec struct {
	Name        string
	Kind        contracts.AssetKind
	Team        string
	Environment contracts.Environment
	Tags        []string
	Criticality contracts.Criticality
}

// Register appends AssetRegistered for asset n.
func (l *Log) Register(n int, s AssetSpec) events.Envelope {
	if s.Kind == "" {
		s.Kind = contracts.AssetKindHost
	}
	if s.Name == "" {
		s.Name = fmt.Sprintf("asset-%d", n)
	}
	return l.Emit(AssetID(n), contracts.TypeAssetRegistered, 1, contracts.AssetRegistered{
		Kind: s.Kind, Name: s.Name, Identifiers: contracts.AssetIdentifiers{Hostnames: []string{fmt.Sprintf("host-%d.example.com", n)}},
		Criticality: s.Criticality, Environment: s.Environment, OwnerTeam: s.Team, Tags: s.Tags,
	})
}

// FindingSpec describes a finding to open.
type FindingSpec struct {
	Asset    int
	Severity contracts.Severity
	Format   string // default trivy
	CVE      string
	Scan     int
	V1       bool // FindingOpened v1 instead of v2
}

// Open appends FindingOpened for finding n, seen at the clock's time.
func (l *Log) Open(n int, s FindingSpec) events.Envelope {
	if s.Format == "" {
		s.Format = "trivy"
	}
	var cves []string
	if s.CVE != "" {
		cves = []string{s.CVE}
	}
	id := FindingID(n)
	if s.V1 {
		return l.Emit(id, contracts.TypeFindingOpened, 1, contracts.FindingOpened{
			AssetID: AssetID(s.Asset), Scope: "host", IdentityKey: fmt.Sprintf("key-%d", n), Fingerprint: fmt.Sprintf("fp-%d", n),
			ScanID: ScanID(s.Scan), Format: s.Format, Title: fmt.Sprintf("Finding %d", n), Severity: s.Severity, CVEs: cves, SeenAt: l.Now,
		})
	}
	return l.Emit(id, contracts.TypeFindingOpened, 2, contracts.FindingOpenedV2{
		AssetID: AssetID(s.Asset), Scope: "host", IdentityKey: fmt.Sprintf("key-%d", n), Fingerprint: fmt.Sprintf("fp-%d", n),
		ScanID: ScanID(s.Scan), Format: s.Format, Title: fmt.Sprintf("Finding %d", n), Severity: s.Severity, CVEs: cves, SeenAt: l.Now,
	})
}

// Seen appends FindingSeen (sev "" keeps the severity; prev is the severity it had).
func (l *Log) Seen(n, scan int, sev, prev contracts.Severity) events.Envelope {
	return l.Emit(FindingID(n), contracts.TypeFindingSeen, 1, contracts.FindingSeen{ScanID: ScanID(scan), SeenAt: l.Now, Severity: sev, PreviousSeverity: prev})
}

func (l *Log) Triage(n int) events.Envelope {
	return l.Emit(FindingID(n), contracts.TypeFindingTriaged, 1, contracts.FindingTriaged{Note: "looked at"})
}

func (l *Log) StartRemediation(n int) events.Envelope {
	return l.Emit(FindingID(n), contracts.TypeFindingRemediationStarted, 1, contracts.FindingRemediationStarted{Note: "on it"})
}

// Resolve appends FindingResolved at the clock's time (scan > 0: by a reimport).
func (l *Log) Resolve(n, scan int) events.Envelope {
	d := contracts.FindingResolved{Reason: "fixed", ResolvedAt: l.Now}
	if scan > 0 {
		d.Reason, d.ScanID = "not seen by scan", ScanID(scan)
	}
	return l.Emit(FindingID(n), contracts.TypeFindingResolved, 1, d)
}

func (l *Log) Close(n, scan int) events.Envelope {
	return l.Emit(FindingID(n), contracts.TypeFindingClosed, 1, contracts.FindingClosed{ScanID: ScanID(scan), ClosedAt: l.Now})
}

// Reopen appends FindingReopened (scan > 0: seen again by that scan at the clock's time).
func (l *Log) Reopen(n, scan int) events.Envelope {
	d := contracts.FindingReopened{Reason: "seen again"}
	if scan > 0 {
		d.ScanID, d.SeenAt = ScanID(scan), l.Now
	}
	return l.Emit(FindingID(n), contracts.TypeFindingReopened, 1, d)
}

func (l *Log) AcceptRisk(n int) events.Envelope {
	return l.Emit(FindingID(n), contracts.TypeFindingRiskAccepted, 1, contracts.FindingRiskAccepted{
		Approver: "user:bob", Justification: "compensating control", ExpiresAt: l.Now.Add(90 * 24 * time.Hour)})
}

func (l *Log) FalsePositive(n int) events.Envelope {
	return l.Emit(FindingID(n), contracts.TypeFindingMarkedFalsePositive, 1, contracts.FindingMarkedFalsePositive{Justification: "not reachable"})
}

func (l *Log) Duplicate(n, of int) events.Envelope {
	return l.Emit(FindingID(n), contracts.TypeFindingMarkedDuplicate, 1, contracts.FindingMarkedDuplicate{DuplicateOf: FindingID(of)})
}

func (l *Log) Due(n int, due time.Time) events.Envelope {
	return l.Emit(FindingID(n), contracts.TypeFindingDueDateSet, 1, contracts.FindingDueDateSet{DueAt: due, Reason: "SLA policy"})
}

// Breach appends SLABreached at the clock's time.
func (l *Log) Breach(n int, due time.Time, sev contracts.Severity, status string) events.Envelope {
	return l.Emit(FindingID(n), contracts.TypeSLABreached, 1, contracts.SLABreached{DueAt: due, BreachedAt: l.Now, Severity: sev, Status: status})
}

// Exploitability appends FindingExploitabilityChanged (nil: unchanged).
func (l *Log) Exploitability(n int, kev *bool, epss *float64) events.Envelope {
	return l.Emit(FindingID(n), contracts.TypeFindingExploitabilityChanged, 1, contracts.FindingExploitabilityChanged{KEV: kev, EPSS: epss})
}

func (l *Log) Assign(n int) events.Envelope {
	return l.Emit(FindingID(n), contracts.TypeFindingAssigned, 1, contracts.FindingAssigned{Owner: "user:carol"})
}

func (l *Log) Comment(n int) events.Envelope {
	return l.Emit(FindingID(n), contracts.TypeFindingCommented, 1, contracts.FindingCommented{Comment: "noted"})
}

// Classify appends AssetClassified (nil fields unchanged).
func (l *Log) Classify(n int, d contracts.AssetClassified) events.Envelope {
	return l.Emit(AssetID(n), contracts.TypeAssetClassified, 1, d)
}

func (l *Log) Rename(n int, name string) events.Envelope {
	return l.Emit(AssetID(n), contracts.TypeAssetUpdated, 1, contracts.AssetUpdated{Name: &name})
}

// Merge appends AssetMergedInto on source and AssetMerged on target.
func (l *Log) Merge(source, target int) []events.Envelope {
	return []events.Envelope{
		l.Emit(AssetID(source), contracts.TypeAssetMergedInto, 1, contracts.AssetMergedInto{TargetAssetID: AssetID(target), Reason: "same host"}),
		l.Emit(AssetID(target), contracts.TypeAssetMerged, 1, contracts.AssetMerged{SourceAssetID: AssetID(source), Reason: "same host"}),
	}
}

func (l *Log) Retire(n int) events.Envelope {
	return l.Emit(AssetID(n), contracts.TypeAssetRetired, 1, contracts.AssetRetired{Reason: "decommissioned"})
}

// ScanCompleted appends ScanImportCompleted (v2 unless v1) for scan n.
func (l *Log) ScanCompleted(n int, format string, v1 bool) events.Envelope {
	if v1 {
		return l.Emit(scanStream(n), contracts.TypeScanImportCompleted, 1, contracts.ScanImportCompleted{ScanID: ScanID(n), Format: format})
	}
	parsed := 1
	return l.Emit(scanStream(n), contracts.TypeScanImportCompleted, 2, contracts.ScanImportCompletedV2{
		ScanImportCompleted: contracts.ScanImportCompleted{ScanID: ScanID(n), Format: format}, Parsed: &parsed})
}

func (l *Log) ScanFailed(n int, format string) events.Envelope {
	return l.Emit(scanStream(n), contracts.TypeScanImportFailed, 1, contracts.ScanImportFailed{ScanID: ScanID(n), Format: format, Stage: contracts.ImportStageParse, Reason: "truncated report"})
}
