package vulns

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections/readkit"
	"github.com/socplatform/soc/schemas/contracts"
)

// Finding statuses (the schemas' vocabulary, schemas/enums/FindingStatus.json). The first four
// are "open": they count toward an asset's open findings, its risk and SLAs.
const (
	StatusOpen          = string(contracts.FindingStatusOpen)
	StatusReopened      = string(contracts.FindingStatusReopened)
	StatusTriaged       = string(contracts.FindingStatusTriaged)
	StatusInRemediation = string(contracts.FindingStatusInRemediation)
	StatusResolved      = string(contracts.FindingStatusResolved)
	StatusClosed        = string(contracts.FindingStatusClosed)
	StatusFalsePositive = string(contracts.FindingStatusFalsePositive)
	StatusDuplicate     = string(contracts.FindingStatusDuplicate)
	StatusRiskAccepted  = string(contracts.FindingStatusRiskAccepted)
)

// OpenStatuses are the statuses of a finding that still needs attention.
var OpenStatuses = []string{StatusOpen, StatusReopened, StatusTriaged, StatusInRemediation}

// IsOpen reports whether a finding in status s still needs attention.
func IsOpen(s string) bool { return slices.Contains(OpenStatuses, s) }

// Severities in decreasing order (the schemas' order).
var Severities = contracts.SeverityValues()

// severityRank orders severities for sorting (info 1 … critical 5; 0 unknown).
func severityRank(s string) int64 {
	switch s {
	case "critical":
		return 5
	case "high":
		return 4
	case "medium":
		return 3
	case "low":
		return 2
	case "info":
		return 1
	}
	return 0
}

// IsFindingEvent reports whether events of type t change a finding (what ApplyFinding folds).
func IsFindingEvent(t string) bool {
	switch t {
	case contracts.TypeFindingSeen, contracts.TypeFindingAssigned, contracts.TypeFindingCommented, contracts.TypeFindingDueDateSet, contracts.TypeFindingExploitabilityChanged, contracts.TypeSLABreached:
		return true
	}
	_, ok := contracts.FindingStatusAfter[t]
	return ok
}

func isCVEEvent(t string) bool {
	return t == contracts.TypeCVEPublished || t == contracts.TypeCVEUpdated || t == contracts.TypeCVEListedInKEV || t == contracts.TypeCVEEPSSScored
}

// ZeroCounts is an open-findings count of zero for every severity.
func ZeroCounts() map[string]int64 {
	m := make(map[string]int64, len(Severities))
	for _, s := range Severities {
		m[s] = 0
	}
	return m
}

// ---- findings --------------------------------------------------------------------------------

// findingEventData is the union of the fields of every other finding event.
type findingEventData struct {
	ScanID         string    `json:"scan_id"`
	SeenAt         time.Time `json:"seen_at"`
	Severity       string    `json:"severity"`
	Note           string    `json:"note"`
	Reason         string    `json:"reason"`
	ResolvedAt     time.Time `json:"resolved_at"`
	ClosedAt       time.Time `json:"closed_at"`
	Justification  string    `json:"justification"`
	DuplicateOf    string    `json:"duplicate_of"`
	Approver       string    `json:"approver"`
	ExpiresAt      time.Time `json:"expires_at"`
	Owner          string    `json:"owner"`
	DueAt          time.Time `json:"due_at"`
	KEV            *bool     `json:"kev"`
	EPSS           *float64  `json:"epss"`
	EPSSPercentile *float64  `json:"epss_percentile"`
}

// componentString is what the list shows of where a finding is: name@version of a component,
// else its location (URL, file:line, host:port or image).
func componentString(c *contracts.FindingOpenedComponent, l *contracts.FindingOpenedLocation) string {
	if c != nil && c.Name != "" {
		if c.Version != "" {
			return c.Name + "@" + c.Version
		}
		return c.Name
	}
	if l == nil {
		return ""
	}
	switch {
	case l.URL != "":
		return l.URL
	case l.File != "" && l.Line != nil && *l.Line > 0:
		return l.File + ":" + strconv.Itoa(*l.Line)
	case l.File != "":
		return l.File
	case l.Host != "" && l.Port != nil && *l.Port > 0:
		return l.Host + ":" + strconv.Itoa(*l.Port)
	case l.Host != "":
		return l.Host
	}
	return l.Image
}

// ApplyFinding folds one finding event into f (nil before FindingOpened) and returns the new
// state. It never modifies f's slices in place (Apply compares old and new CVE/CWE lists).
func ApplyFinding(f *Finding, e *events.Envelope) (*Finding, error) {
	if e.Type == contracts.TypeFindingOpened {
		var d contracts.FindingOpenedV2
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return nil, err
		}
		if severityRank(string(d.Severity)) == 0 {
			return nil, fmt.Errorf("FindingOpened: unknown severity %q", d.Severity)
		}
		if d.AssetID == "" || d.SeenAt.IsZero() {
			return nil, errors.New("FindingOpened without asset_id or seen_at")
		}
		n := &Finding{
			ID: e.StreamID, AssetID: d.AssetID, Title: d.Title, Description: d.Description, Remediation: d.Remediation,
			Severity: string(d.Severity), ScannerSeverity: d.ScannerSeverity, Status: StatusOpen,
			CVEs: dedupe(d.CVEs), CWEs: dedupe(d.CWEs), Scanner: d.Scanner, Format: d.Format, RuleID: d.RuleID,
			Component: componentString(d.Component, d.Location), Fingerprint: d.Fingerprint,
			FirstScanID: d.ScanID, LastScanID: d.ScanID, FirstSeen: readkit.Stored(d.SeenAt), LastSeen: readkit.Stored(d.SeenAt),
		}
		// Every location, the single one too (FindingOpened lists them only when there are several).
		n.Locations = d.Locations
		if len(n.Locations) == 0 && d.Location != nil {
			n.Locations = []Location{*d.Location}
		}
		for _, c := range d.CVSS {
			if c.Score != nil && (n.CVSSScore == nil || *c.Score > *n.CVSSScore) {
				s := *c.Score
				n.CVSSScore, n.CVSSVector = &s, c.Vector
			}
		}
		n.UpdatedAt, n.Version = readkit.EventTime(e), e.Version
		return n, nil
	}
	if f == nil {
		return nil, fmt.Errorf("%s before FindingOpened in stream %s", e.Type, e.StreamID)
	}
	var d findingEventData
	if err := json.Unmarshal(e.Data, &d); err != nil {
		return nil, err
	}
	n := *f
	if s, ok := contracts.FindingStatusAfter[e.Type]; ok {
		n.Status = string(s)
	}
	switch e.Type {
	case contracts.TypeFindingSeen:
		n.LastSeen, n.LastScanID = readkit.Stored(d.SeenAt), d.ScanID
		if d.Severity != "" {
			if severityRank(d.Severity) == 0 {
				return nil, fmt.Errorf("FindingSeen: unknown severity %q", d.Severity)
			}
			n.Severity = d.Severity
		}
	case contracts.TypeFindingTriaged, contracts.TypeFindingRemediationStarted:
		n.StatusReason = d.Note
	case contracts.TypeFindingResolved:
		n.StatusReason, n.ResolvedAt = d.Reason, readkit.StoredPtr(d.ResolvedAt)
	case contracts.TypeFindingClosed:
		n.StatusReason = "verified fixed: not seen by scan " + d.ScanID
		if n.ResolvedAt == nil {
			n.ResolvedAt = readkit.StoredPtr(d.ClosedAt)
		}
	case contracts.TypeFindingReopened:
		n.StatusReason, n.ResolvedAt = d.Reason, nil
		if !d.SeenAt.IsZero() {
			n.LastSeen, n.LastScanID = readkit.Stored(d.SeenAt), d.ScanID
		}
	case contracts.TypeFindingMarkedFalsePositive:
		n.StatusReason = d.Justification
	case contracts.TypeFindingMarkedDuplicate:
		n.StatusReason = "duplicate of " + d.DuplicateOf
	case contracts.TypeFindingRiskAccepted:
		n.StatusReason = fmt.Sprintf("%s (accepted by %s until %s)", d.Justification, d.Approver, readkit.Stored(d.ExpiresAt).Format(time.RFC3339))
	case contracts.TypeFindingAssigned:
		n.Owner = d.Owner
	case contracts.TypeFindingDueDateSet:
		n.DueAt = readkit.StoredPtr(d.DueAt)
	case contracts.TypeFindingExploitabilityChanged:
		if d.KEV != nil {
			n.KEV = *d.KEV
		}
		if d.EPSS != nil {
			v := *d.EPSS
			n.EPSS = &v
		}
		if d.EPSSPercentile != nil {
			v := *d.EPSSPercentile
			n.EPSSPercentile = &v
		}
	case contracts.TypeFindingCommented, contracts.TypeSLABreached: // no column: due_at/overdue already tell
	default:
		return f, nil
	}
	n.UpdatedAt, n.Version = readkit.EventTime(e), e.Version
	return &n, nil
}

func dedupe(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	out := make([]string, 0, len(s))
	for _, v := range s {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// FoldFinding rebuilds a finding from its stream's events (in version order) with the code the
// findings projection applies, for point-in-time reads. AssetName and Overdue are left for the
// caller (they depend on another stream and on the reading time).
func FoldFinding(evs []events.Envelope) (*Finding, error) {
	return readkit.Fold(evs, IsFindingEvent, ApplyFinding)
}

// ---- CVEs ------------------------------------------------------------------------------------

type cveEventData struct {
	ID             string          `json:"id"`
	Published      time.Time       `json:"published"`
	LastModified   time.Time       `json:"last_modified"`
	Status         string          `json:"status"`
	Description    string          `json:"description"`
	Ratings        json.RawMessage `json:"ratings"`
	CWEs           []string        `json:"cwes"`
	DateAdded      string          `json:"date_added"`
	DueDate        string          `json:"due_date"`
	Ransomware     string          `json:"known_ransomware_campaign_use"`
	EPSS           *float64        `json:"epss"`
	EPSSPercentile *float64        `json:"percentile"`
}

// cveIDOf keys a cves row by the CVE id every CVE event carries.
var cveIDOf = readkit.DataKey(func(d *struct {
	ID string `json:"id"`
}) string {
	return d.ID
}, "CVE event without id")

// ApplyCVE folds one CVE event into c (nil before the stream's first event: a KEV or EPSS feed
// may be imported before NVD's record, so any event may start the row).
func ApplyCVE(c *CVE, e *events.Envelope) (*CVE, error) {
	var d cveEventData
	if err := json.Unmarshal(e.Data, &d); err != nil {
		return nil, err
	}
	if d.ID == "" {
		return nil, errors.New("CVE event without id")
	}
	n := CVE{ID: d.ID, StreamID: e.StreamID}
	if c != nil {
		n = *c
	}
	switch e.Type {
	case contracts.TypeCVEPublished, contracts.TypeCVEUpdated:
		// The record is whole each time (not a diff).
		n.Published, n.LastModified, n.Status, n.Description = readkit.StoredPtr(d.Published), readkit.StoredPtr(d.LastModified), d.Status, d.Description
		n.CWEs, n.Ratings, n.CVSSScore, n.CVSSVector = readkit.NonEmpty(d.CWEs), nil, nil, ""
		if len(d.Ratings) > 0 && string(d.Ratings) != "null" {
			var rs []contracts.CVERating
			if err := json.Unmarshal(d.Ratings, &rs); err != nil {
				return nil, err
			}
			if len(rs) > 0 {
				n.Ratings = slices.Clone(d.Ratings)
				best := bestRating(rs)
				score := best.BaseScore
				n.CVSSScore, n.CVSSVector = &score, best.Vector
			}
		}
	case contracts.TypeCVEListedInKEV:
		n.KEV, n.KEVDateAdded, n.KEVDueDate, n.KEVRansomware = true, d.DateAdded, d.DueDate, d.Ransomware
	case contracts.TypeCVEEPSSScored:
		n.EPSS, n.EPSSPercentile = d.EPSS, d.EPSSPercentile
	default:
		return c, nil
	}
	n.Version = e.Version
	return &n, nil
}

// bestRating picks the CVE's headline CVSS: the newest CVSS version rated, NVD's Primary rating
// of it when there is one, else its highest score.
func bestRating(rs []contracts.CVERating) contracts.CVERating {
	best := rs[0]
	better := func(a, b contracts.CVERating) bool { // a better than b
		if a.Version != b.Version {
			return a.Version > b.Version // "2.0" < "3.0" < "3.1" < "4.0"
		}
		if (a.Type == "Primary") != (b.Type == "Primary") {
			return a.Type == "Primary"
		}
		return a.BaseScore > b.BaseScore
	}
	for _, r := range rs[1:] {
		if better(r, best) {
			best = r
		}
	}
	return best
}
