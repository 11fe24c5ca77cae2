package assets

import (
	"time"

	"github.com/socplatform/soc/projections/ownership"
	"github.com/socplatform/soc/projections/readkit"
)

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
	Status             string              `json:"status"` // active | retired | merged
	CreatedAt          time.Time           `json:"created_at"`
	UpdatedAt          time.Time           `json:"updated_at"`
	Version            int64               `json:"version"` // stream version (ETag)
	// OpenFindings counts open findings (open, reopened, triaged, in_remediation) by severity:
	// critical, high, medium, low, info (always all five keys).
	OpenFindings map[string]int64 `json:"open_findings"`
	Risk         Risk             `json:"risk"`
	// MergedInto is the asset a merged asset went into (its findings are that asset's now).
	MergedInto string `json:"merged_into,omitempty"`
}

// WeakIdentifier is the Identifiers key under which an asset registered weakly (from what a
// report names, AssetRegisteredWeakly) shows its weak key: such an asset is identified weakly.
const WeakIdentifier = "weak"

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

// Query filters assets.
type Query struct {
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
	// Scope restricts the list to the assets these teams own (nil: every asset); see
	// projections/ownership.
	Scope ownership.Scope `json:",omitempty"` // omitted unscoped: cursors issued before scoping stay valid
}

// Sorts are the sort fields of assets; the first is the default (descending).
var Sorts = []string{"risk", "name", "criticality", "open_critical", "updated_at", "id"}
