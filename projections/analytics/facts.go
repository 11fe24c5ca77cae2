package analytics

import "github.com/socplatform/soc/events"

// The rows both backends store. Times are unix milliseconds (UTC); 0 means none. Fold computes
// them; a backend only stores and sums them.

// Fact is one change a finding event made, at the event's business time (a finding's seen_at,
// a resolution's resolved_at, a closure's closed_at, a breach's breached_at; else the time the
// event was recorded). An event makes one fact, or two when it moves an open finding from one
// severity to another (Seq 0: leaving the old severity, Seq 1: entering the new one). Facts are
// keyed by (EventID, Seq): storing one twice changes no answer.
type Fact struct {
	EventID   string
	Seq       uint8
	Position  int64 // global position (0 when the log did not say)
	At        int64
	FindingID string
	AssetID   string
	Type      string // the event type (FindingOpened, FindingResolved, SLABreached, …)
	Severity  string // the severity the row counts under
	// StatusBefore/After are the finding's status around the event ("" before FindingOpened).
	StatusBefore, StatusAfter string
	// OpenDelta is +1 when the finding enters the open statuses (open, reopened, triaged,
	// in_remediation) at Severity, -1 when it leaves them, else 0: the open findings at an
	// instant are the sum of the deltas up to it.
	OpenDelta int8
	// RiskDelta is the change of the finding's risk points, in thousandths (projections/vulns
	// "Risk score"): an asset's points at an instant are the sum of its facts' deltas up to it.
	RiskDelta int64
	Scanner   string // the finding's format
	CVE       string // its first CVE ("" for none)
	KEV       bool   // KEV-listed at that time
	EPSS      float64
	HasEPSS   bool
	DueAt     int64 // the finding's due date at that time
	// Duration is, for a resolution or closure that ends an open period, the time since the
	// period began; for a finding's first FindingTriaged, the time since FindingOpened; else 0.
	Duration int64
}

// FindingDim is a finding's current state: what later events of the finding do not repeat,
// and what "now" answers read (open, overdue, due soon, KEV, EPSS).
type FindingDim struct {
	FindingID string
	AssetID   string
	Severity  string
	Status    string
	Scanner   string
	CVE       string
	KEV       bool
	EPSS      float64
	HasEPSS   bool
	DueAt     int64
	OpenedAt  int64 // start of the current (or last) open period
	FirstSeen int64
	TriagedAt int64 // first FindingTriaged (0: never)
	Risk      int64 // current risk points in thousandths (0 unless open)
	Version   int64 // last applied stream version
}

// AssetDim is an asset's current state, for filters, team scoping and risk.
type AssetDim struct {
	AssetID     string
	Name        string
	Kind        string
	Team        string
	Environment string
	Tags        []string
	Criticality string
	MergedInto  string
	Version     int64
}

// ScanFact is one scan import's outcome (ScanImportCompleted or ScanImportFailed).
type ScanFact struct {
	EventID string
	At      int64
	ScanID  string
	Scanner string // the import's format
	Failed  bool
}

// Scanned records that a scanner scanned an asset at an instant (the latest wins).
type Scanned struct {
	AssetID string
	Scanner string
	At      int64
}

// State is what Fold reads of the model: the dimension rows of the findings and assets a batch
// touches (Keys), loaded by the backend before the batch.
type State struct {
	Findings map[string]*FindingDim
	Assets   map[string]*AssetDim
}

// Output is what one batch writes: its facts and the final state of every dimension row it
// changed.
type Output struct {
	Facts    []Fact
	Findings []FindingDim
	Assets   []AssetDim
	Scans    []ScanFact
	Scanned  []Scanned
}

// KeysFunc and FoldFunc document the two functions facts.go's implementation provides:
//
//	Keys(batch) (findingIDs, assetIDs []string)  the dimension rows a batch needs
//	Fold(st *State, batch) (Output, error)       applies the batch; events whose stream version
//	                                              is not beyond the dimension row's Version are
//	                                              skipped (redelivery), so backends without
//	                                              transactions (ClickHouse) stay idempotent
type (
	KeysFunc func(batch []events.Envelope) (findings, assets []string)
	FoldFunc func(st *State, batch []events.Envelope) (Output, error)
)
