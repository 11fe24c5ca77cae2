package vulns

import (
	"encoding/json"
	"time"

	"github.com/socplatform/soc/projections/ownership"
	"github.com/socplatform/soc/projections/readkit"
	"github.com/socplatform/soc/schemas/contracts"
)

// This file is the contract between the vulns read models (this package) and the query API
// (query-api): the rows a query returns and the parameters it takes. JSON tags are the API's
// field names.

// Finding is a row of the findings read model: every field a triage screen filters on.
type Finding struct {
	ID              string     `json:"id"` // stream id, vulns-finding-<uuid>
	AssetID         string     `json:"asset_id"`
	AssetName       string     `json:"asset_name,omitempty"`
	Title           string     `json:"title"`
	Description     string     `json:"description,omitempty"`
	Remediation     string     `json:"remediation,omitempty"`
	Severity        string     `json:"severity"` // critical | high | medium | low | info
	ScannerSeverity string     `json:"scanner_severity,omitempty"`
	Status          string     `json:"status"`
	CVEs            []string   `json:"cves,omitempty"`
	CWEs            []string   `json:"cwes,omitempty"`
	CVSSScore       *float64   `json:"cvss_score,omitempty"` // highest recomputed score
	CVSSVector      string     `json:"cvss_vector,omitempty"`
	KEV             bool       `json:"kev"`
	EPSS            *float64   `json:"epss,omitempty"`
	EPSSPercentile  *float64   `json:"epss_percentile,omitempty"`
	Owner           string     `json:"owner,omitempty"` // assignee (FindingAssigned)
	DueAt           *time.Time `json:"due_at,omitempty"`
	Overdue         bool       `json:"overdue"` // computed at query time: open and due before now
	Scanner         string     `json:"scanner,omitempty"`
	Format          string     `json:"format"`
	RuleID          string     `json:"rule_id,omitempty"`
	Component       string     `json:"component,omitempty"` // name@version or location
	Locations       []Location `json:"locations,omitempty"` // every place the report named (see Location)
	Fingerprint     string     `json:"fingerprint"`
	FirstScanID     string     `json:"first_scan_id,omitempty"`
	LastScanID      string     `json:"last_scan_id,omitempty"`
	FirstSeen       time.Time  `json:"first_seen"`
	LastSeen        time.Time  `json:"last_seen"`
	ResolvedAt      *time.Time `json:"resolved_at,omitempty"`
	StatusReason    string     `json:"status_reason,omitempty"`
	UpdatedAt       time.Time  `json:"updated_at"`
	Version         int64      `json:"version"` // stream version (ETag)
}

// Location is one place a finding was reported at (a host and port, a URL, a file and line, an
// image). A finding's locations are those of its first import (FindingOpened; a reimport keeps
// them): one for most findings, several for a SARIF result reported at several places.
type Location = contracts.FindingOpenedLocation

// CVE is a CVE catalogue entry.
type CVE struct {
	ID             string          `json:"id"` // CVE-YYYY-NNNN
	StreamID       string          `json:"stream_id"`
	Published      *time.Time      `json:"published,omitempty"`
	LastModified   *time.Time      `json:"last_modified,omitempty"`
	Status         string          `json:"status,omitempty"`
	Description    string          `json:"description,omitempty"`
	CVSSScore      *float64        `json:"cvss_score,omitempty"`
	CVSSVector     string          `json:"cvss_vector,omitempty"`
	Ratings        json.RawMessage `json:"ratings,omitempty"`
	CWEs           []string        `json:"cwes,omitempty"`
	KEV            bool            `json:"kev"`
	KEVDateAdded   string          `json:"kev_date_added,omitempty"`
	KEVDueDate     string          `json:"kev_due_date,omitempty"`
	KEVRansomware  string          `json:"kev_ransomware,omitempty"`
	EPSS           *float64        `json:"epss,omitempty"`
	EPSSPercentile *float64        `json:"epss_percentile,omitempty"`
	OpenFindings   int64           `json:"open_findings"` // open findings that carry this CVE
	Version        int64           `json:"version"`
}

// FindingQuery filters findings. Zero values mean "no filter"; lists match any of their values.
type FindingQuery struct {
	readkit.List
	Severity  []string
	Status    []string
	Open      *bool // open, reopened, triaged, in_remediation
	AssetID   string
	CVE       string
	CWE       string
	KEV       *bool
	EPSSMin   *float64
	Owner     string
	Overdue   *bool
	DueBefore time.Time
	DueAfter  time.Time
	Scanner   string
	Format    string
	ScanID    string // first or last scan
	// FirstSeen / LastSeen ranges: [From, To)
	FirstSeenFrom, FirstSeenTo time.Time
	LastSeenFrom, LastSeenTo   time.Time
	Q                          string    // case-insensitive substring of the title
	Now                        time.Time // for overdue; zero = time.Now()
	// Scope restricts the list to the findings of the assets these teams own (nil: every
	// finding); see projections/ownership.
	Scope ownership.Scope `json:",omitempty"` // omitted unscoped: cursors issued before scoping stay valid
}

// FindingSorts are the sort fields of findings; the first is the default (descending).
var FindingSorts = []string{"severity", "due_at", "first_seen", "last_seen", "epss", "cvss", "updated_at", "id"}
