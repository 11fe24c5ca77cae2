package readmodel

import (
	"encoding/json"
	"time"

	"github.com/socplatform/soc/projections/readkit"
)

// This file is the contract between the read models (this package) and the query API
// (query-api): the rows a query returns and the parameters it takes. JSON tags are the API's
// field names.

// Asset is a row of the assets read model, with what the findings projection knows about it.
type Asset struct {
	ID                 string              `json:"id"` // stream id, assets-asset-<uuid>
	Kind               string              `json:"kind"`
	Name               string              `json:"name"`
	Description        string              `json:"description,omitempty"`
	Identifiers        map[string][]string `json:"identifiers,omitempty"`
	Criticality        string              `json:"criticality,omitempty"`
	Environment        string              `json:"environment,omitempty"`
	OwnerTeam          string              `json:"owner_team,omitempty"`
	DataClassification string              `json:"data_classification,omitempty"`
	Tags               []string            `json:"tags,omitempty"`
	Links              []AssetLink         `json:"links,omitempty"`
	Status             string              `json:"status"` // active | retired
	CreatedAt          time.Time           `json:"created_at"`
	UpdatedAt          time.Time           `json:"updated_at"`
	Version            int64               `json:"version"` // stream version (ETag)
	// OpenFindings counts open findings (open, reopened, triaged, in_remediation) by severity:
	// critical, high, medium, low, info (always all five keys).
	OpenFindings map[string]int64 `json:"open_findings"`
	Risk         Risk             `json:"risk"`
}

// AssetLink is a relation to another asset.
type AssetLink struct {
	Relation string `json:"relation"`
	Target   string `json:"target"`
}

// Risk is an asset's risk score and how it was computed, so a reader can check it by hand.
type Risk struct {
	Score float64 `json:"score"` // 0–100
	// Formula says, in words, how Score follows from the components.
	Formula    string          `json:"formula"`
	Components []RiskComponent `json:"components"`
}

// RiskComponent is one term of a risk score.
type RiskComponent struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Detail string  `json:"detail,omitempty"`
}

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
}

// FindingSorts are the sort fields of findings; the first is the default (descending).
var FindingSorts = []string{"severity", "due_at", "first_seen", "last_seen", "epss", "cvss", "updated_at", "id"}

// AssetQuery filters assets.
type AssetQuery struct {
	readkit.List
	Kind        []string
	Criticality []string
	Environment string
	OwnerTeam   string
	Status      string // active | retired
	Tag         string
	Q           string // case-insensitive substring of the name
	MinRisk     *float64
	HasOpen     *bool // has at least one open finding
}

// AssetSorts are the sort fields of assets; the first is the default (descending).
var AssetSorts = []string{"risk", "name", "criticality", "open_critical", "updated_at", "id"}
