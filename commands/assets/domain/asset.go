package domain

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

// Status is an asset's lifecycle state.
type Status string

const (
	StatusActive  Status = "active"
	StatusRetired Status = "retired"
)

// TransitionError refuses a command that the asset's lifecycle state does not allow: every command
// on a retired asset except Reactivate, Reactivate on an active asset, Register on an asset that
// already exists.
type TransitionError struct {
	AssetID string
	From    Status
	Command string // "update", "classify", "link", "unlink", "observe_identifiers", "retire", "reactivate", "register"
}

func (e *TransitionError) Error() string {
	switch {
	case e.Command == "register":
		return fmt.Sprintf("asset %s is already registered", e.AssetID)
	case e.From == StatusRetired:
		return fmt.Sprintf("asset %s is retired and refuses %s (reactivate it first)", e.AssetID, e.Command)
	}
	return fmt.Sprintf("asset %s is %s and cannot %s", e.AssetID, e.From, e.Command)
}
func (e *TransitionError) Kind() problem.Kind { return problem.KindConflict }
func (e *TransitionError) Field() string      { return "/status" }

// NotFoundError: the command names an asset that was never registered.
type NotFoundError struct{ AssetID string }

func (e *NotFoundError) Error() string {
	if e.AssetID == "" {
		return "no such asset"
	}
	return fmt.Sprintf("no such asset: %s", e.AssetID)
}
func (e *NotFoundError) Kind() problem.Kind { return problem.KindNotFound }
func (e *NotFoundError) Field() string      { return "/asset_id" }

// RuleError is a command refused by a rule (an invalid identifier, a duplicate link, …).
type RuleError struct {
	Path   string // JSON pointer of the offending command field
	Reason string
}

func (e *RuleError) Error() string {
	if e.Path == "" {
		return e.Reason
	}
	return e.Path + ": " + e.Reason
}
func (e *RuleError) Kind() problem.Kind { return problem.KindRejected }
func (e *RuleError) Field() string      { return e.Path }
func rule(path, format string, a ...any) *RuleError {
	return &RuleError{Path: path, Reason: fmt.Sprintf(format, a...)}
}

// Criticality is how much the business depends on the asset.
type Criticality = contracts.Criticality

// The criticalities, named as the domain speaks of them.
const (
	CriticalityCritical = contracts.CriticalityCritical
	CriticalityHigh     = contracts.CriticalityHigh
	CriticalityMedium   = contracts.CriticalityMedium
	CriticalityLow      = contracts.CriticalityLow
)

// Environment is the deployment stage the asset belongs to.
type Environment = contracts.Environment

// The environments, named as the domain speaks of them.
const (
	Production  = contracts.EnvironmentProduction
	Staging     = contracts.EnvironmentStaging
	Development = contracts.EnvironmentDevelopment
	Test        = contracts.EnvironmentTest
)

// DataClassification is the most sensitive class of data the asset holds or processes.
type DataClassification = contracts.DataClassification

// The data classes, named as the domain speaks of them.
const (
	Public       = contracts.DataClassificationPublic
	Internal     = contracts.DataClassificationInternal
	Confidential = contracts.DataClassificationConfidential
	Restricted   = contracts.DataClassificationRestricted
)

// Relation is the kind of a directed link from one asset to another.
type Relation = contracts.AssetRelation

// The relations, named as the domain speaks of them.
const (
	RunsOn    = contracts.AssetRelationRunsOn    // a container image or web application runs on a host
	DependsOn = contracts.AssetRelationDependsOn // needs the target to work
	Exposes   = contracts.AssetRelationExposes   // a host or load balancer exposes the target (a web application)
	Contains  = contracts.AssetRelationContains  // an image contains a component, a cloud account a resource
)

// Bounds of an asset's other fields (mirrored by the event schemas).
const (
	MaxNameLen        = 256
	MaxDescriptionLen = 4096
	MaxOwnerTeamLen   = 128
	MaxTags           = 64
	MaxTagLen         = 64
	MaxReasonLen      = 1024
	MaxScanIDLen      = 128
	MaxLinks          = 1024
)

// Classification is how the organisation rates an asset. Empty fields are not set.
type Classification struct {
	Criticality        Criticality        `json:"criticality,omitempty"`
	Environment        Environment        `json:"environment,omitempty"`
	OwnerTeam          string             `json:"owner_team,omitempty"`
	DataClassification DataClassification `json:"data_classification,omitempty"`
	Tags               []string           `json:"tags,omitempty"` // normalised: lower-case, deduplicated, sorted
}

// Link is a directed relation from the asset to another asset: the payload of AssetLinked, and
// of AssetUnlinked, whose fields are the same.
type Link = contracts.AssetLinked

// EventTypes lists every event type of the context (each has a schema in schemas/events/assets).
var EventTypes = []string{contracts.TypeAssetRegistered, contracts.TypeAssetUpdated, contracts.TypeAssetClassified, contracts.TypeAssetLinked, contracts.TypeAssetUnlinked,
	contracts.TypeAssetIdentifiersObserved, contracts.TypeAssetRetired, contracts.TypeAssetReactivated, contracts.TypeAssetRegisteredWeakly,
	contracts.TypeAssetMergedInto, contracts.TypeAssetMerged}

// Asset is the aggregate: one thing the organisation owns and scans. Its stream id is a random
// "assets-asset-<uuidv7>" chosen at registration (events.NewStreamID("assets", "asset")): an asset
// has no natural key, since its identifiers change over time. Index maps identifiers to stream ids.
type Asset struct {
	ID          string
	Kind        AssetKind
	Name        string
	Description string
	Identifiers Identifiers
	// WeakKey is set on an asset registered from what a report names (RegisterWeakly): it is
	// identified weakly, by that key alone.
	WeakKey string
	// MergedInto is the asset this one was merged into (it is retired for good); Merged the
	// assets merged into this one.
	MergedInto string
	Merged     []string
	Classification
	Status        Status
	RetiredReason string
	links         map[Link]struct{}
	registered    bool
}

var _ es.Aggregate = (*Asset)(nil)

// Apply implements es.Aggregate.
func (a *Asset) Apply(e *events.Envelope) error {
	switch e.Type {
	case contracts.TypeAssetRegistered:
		return events.OnPayload(e.Data, func(d contracts.AssetRegistered) {
			a.ID, a.Kind, a.Name, a.Description, a.Identifiers = e.StreamID, d.Kind, d.Name, d.Description, Identifiers(d.Identifiers)
			a.Classification = Classification{Criticality: d.Criticality, Environment: d.Environment, OwnerTeam: d.OwnerTeam,
				DataClassification: d.DataClassification, Tags: d.Tags}
			a.Status, a.registered = StatusActive, true
		})
	case contracts.TypeAssetRegisteredWeakly:
		return events.OnPayload(e.Data, func(d contracts.AssetRegisteredWeakly) {
			a.ID, a.Kind, a.Name, a.WeakKey = e.StreamID, d.Kind, d.Name, d.WeakKey
			a.Status, a.registered = StatusActive, true
		})
	case contracts.TypeAssetUpdated:
		return events.OnPayload(e.Data, func(d contracts.AssetUpdated) {
			if d.Name != nil {
				a.Name = *d.Name
			}
			if d.Description != nil {
				a.Description = *d.Description
			}
			if d.Identifiers != nil {
				a.Identifiers = Identifiers(*d.Identifiers)
			}
		})
	case contracts.TypeAssetClassified:
		return events.OnPayload(e.Data, a.classify)
	case contracts.TypeAssetLinked:
		return events.OnPayload(e.Data, func(d Link) {
			if a.links == nil {
				a.links = map[Link]struct{}{}
			}
			a.links[d] = struct{}{}
		})
	case contracts.TypeAssetUnlinked:
		return events.OnPayload(e.Data, func(d Link) { delete(a.links, d) })
	case contracts.TypeAssetIdentifiersObserved:
		return events.OnPayload(e.Data, func(d contracts.AssetIdentifiersObserved) {
			a.Identifiers = merge(a.Identifiers, Identifiers(d.Identifiers))
		})
	case contracts.TypeAssetRetired:
		return events.OnPayload(e.Data, func(d contracts.AssetRetired) { a.Status, a.RetiredReason = StatusRetired, d.Reason })
	case contracts.TypeAssetReactivated:
		a.Status, a.RetiredReason = StatusActive, ""
	case contracts.TypeAssetMergedInto:
		return events.OnPayload(e.Data, func(d contracts.AssetMergedInto) {
			a.Status, a.RetiredReason, a.MergedInto = StatusRetired, "merged into "+d.TargetAssetID+": "+d.Reason, d.TargetAssetID
		})
	case contracts.TypeAssetMerged:
		return events.OnPayload(e.Data, func(d contracts.AssetMerged) { a.Merged = append(a.Merged, d.SourceAssetID) })
	}
	return nil
}

// classify applies AssetClassified: only the properties it carries change, an empty
// criticality, environment or data classification leaves it as it is, and an empty tag list
// clears the tags.
func (a *Asset) classify(d contracts.AssetClassified) {
	if d.Criticality != nil && *d.Criticality != "" {
		a.Criticality = *d.Criticality
	}
	if d.Environment != nil && *d.Environment != "" {
		a.Environment = *d.Environment
	}
	if d.DataClassification != nil && *d.DataClassification != "" {
		a.DataClassification = *d.DataClassification
	}
	if d.OwnerTeam != nil {
		a.OwnerTeam = *d.OwnerTeam
	}
	if d.Tags != nil {
		a.Tags = *d.Tags
		if len(a.Tags) == 0 {
			a.Tags = nil
		}
	}
}

// Exists reports whether the asset has been registered.
func (a *Asset) Exists() bool { return a.registered }

// Links returns the asset's outgoing links, sorted by relation then target.
func (a *Asset) Links() []Link {
	out := make([]Link, 0, len(a.links))
	for l := range a.links {
		out = append(out, l)
	}
	slices.SortFunc(out, func(x, y Link) int {
		if c := strings.Compare(string(x.Relation), string(y.Relation)); c != 0 {
			return c
		}
		return strings.Compare(x.TargetAssetID, y.TargetAssetID)
	})
	return out
}

// HasLink reports whether the asset links to target by relation.
func (a *Asset) HasLink(relation Relation, target string) bool {
	_, ok := a.links[Link{Relation: relation, TargetAssetID: target}]
	return ok
}

// live refuses commands on an asset that does not exist or is retired.
func (a *Asset) live(command string) error {
	if !a.registered {
		return &NotFoundError{AssetID: a.ID}
	}
	if a.Status == StatusRetired {
		return &TransitionError{AssetID: a.ID, From: a.Status, Command: command}
	}
	return nil
}

// RegisterAsset is what Register needs to create an asset: the aggregate's input, not a wire
// type (the HTTP body is contracts.RegisterAsset; discovery builds this directly).
// Classification fields are optional. ScanID is set when discovery registers an asset a scan found.
type RegisterAsset struct {
	Kind        AssetKind
	Name        string
	Description string
	Identifiers Identifiers
	Classification
	ScanID string
}

// Register creates the asset. The caller picks the stream id (events.NewStreamID("assets",
// "asset")) and should first ask Index.Claimed whether another live asset already holds one of
// the strong identifiers: that is a cross-aggregate rule this aggregate cannot see.
func (a *Asset) Register(cmd RegisterAsset) ([]es.Change, error) {
	if a.registered {
		return nil, &TransitionError{AssetID: a.ID, From: a.Status, Command: "register"}
	}
	d, err := validateRegistration(cmd)
	if err != nil {
		return nil, err
	}
	return []es.Change{{Type: contracts.TypeAssetRegistered, Data: d}}, nil
}

func validateRegistration(cmd RegisterAsset) (contracts.AssetRegistered, error) {
	if err := oneOf("/kind", cmd.Kind, contracts.AssetKindValues()); err != nil {
		return contracts.AssetRegistered{}, err
	}
	name, err := line(cmd.Name, "/name", MaxNameLen, true)
	if err != nil {
		return contracts.AssetRegistered{}, err
	}
	desc, err := para(cmd.Description, "/description", MaxDescriptionLen, false)
	if err != nil {
		return contracts.AssetRegistered{}, err
	}
	ids, rerr := normalizeIdentifiers(cmd.Kind, cmd.Identifiers, "/identifiers", true)
	if rerr != nil {
		return contracts.AssetRegistered{}, rerr
	}
	d := contracts.AssetRegistered{Kind: cmd.Kind, Name: name, Description: desc, Identifiers: contracts.AssetIdentifiers(ids)}
	if err := classification(cmd.Criticality, cmd.Environment, cmd.DataClassification); err != nil {
		return contracts.AssetRegistered{}, err
	}
	d.Criticality, d.Environment, d.DataClassification = cmd.Criticality, cmd.Environment, cmd.DataClassification
	if d.OwnerTeam, err = line(cmd.OwnerTeam, "/owner_team", MaxOwnerTeamLen, false); err != nil {
		return contracts.AssetRegistered{}, err
	}
	if d.Tags, err = NormalizeTags(cmd.Tags); err != nil {
		return contracts.AssetRegistered{}, err
	}
	if len(d.Tags) == 0 {
		d.Tags = nil
	}
	if cmd.ScanID != "" {
		if d.ScanID, err = scanID(cmd.ScanID); err != nil {
			return contracts.AssetRegistered{}, err
		}
	}
	return d, nil
}

// UpdateAsset is what Update needs (the HTTP body is contracts.UpdateAsset): an asset's new
// name, description or identifiers; nil fields stay as they are. Identifiers, when given, is the
// complete new set.
type UpdateAsset struct {
	Name        *string
	Description *string
	Identifiers *Identifiers
}

// Update records what changed; a command that changes nothing returns no changes.
func (a *Asset) Update(cmd UpdateAsset) ([]es.Change, error) {
	if err := a.live("update"); err != nil {
		return nil, err
	}
	var d contracts.AssetUpdated
	if cmd.Name != nil {
		name, err := line(*cmd.Name, "/name", MaxNameLen, true)
		if err != nil {
			return nil, err
		}
		if name != a.Name {
			d.Name = &name
		}
	}
	if cmd.Description != nil {
		desc, err := para(*cmd.Description, "/description", MaxDescriptionLen, false)
		if err != nil {
			return nil, err
		}
		if desc != a.Description {
			d.Description = &desc
		}
	}
	if cmd.Identifiers != nil {
		ids, err := normalizeIdentifiers(a.Kind, *cmd.Identifiers, "/identifiers", true)
		if err != nil {
			return nil, err
		}
		if !ids.Equal(a.Identifiers) {
			d.Identifiers = (*contracts.AssetIdentifiers)(&ids)
		}
	}
	if d.Name == nil && d.Description == nil && d.Identifiers == nil {
		return nil, nil
	}
	return []es.Change{{Type: contracts.TypeAssetUpdated, Data: d}}, nil
}

// ClassifyAsset is what Classify needs (the HTTP body is contracts.ClassifyAsset). Empty enum
// fields and a nil OwnerTeam or Tags leave the current value; OwnerTeam "" clears the owner, an
// empty non-nil Tags clears the tags. Tags replace the current set.
type ClassifyAsset struct {
	Criticality        Criticality
	Environment        Environment
	OwnerTeam          *string
	DataClassification DataClassification
	Tags               []string
}

// Classify records the classification fields that change; none changing records nothing.
func (a *Asset) Classify(cmd ClassifyAsset) ([]es.Change, error) {
	if err := a.live("classify"); err != nil {
		return nil, err
	}
	if err := classification(cmd.Criticality, cmd.Environment, cmd.DataClassification); err != nil {
		return nil, err
	}
	var d contracts.AssetClassified
	changed := false
	if cmd.Criticality != "" && cmd.Criticality != a.Criticality {
		d.Criticality, changed = &cmd.Criticality, true
	}
	if cmd.Environment != "" && cmd.Environment != a.Environment {
		d.Environment, changed = &cmd.Environment, true
	}
	if cmd.DataClassification != "" && cmd.DataClassification != a.DataClassification {
		d.DataClassification, changed = &cmd.DataClassification, true
	}
	if cmd.OwnerTeam != nil {
		owner, err := line(*cmd.OwnerTeam, "/owner_team", MaxOwnerTeamLen, false)
		if err != nil {
			return nil, err
		}
		if owner != a.OwnerTeam {
			d.OwnerTeam, changed = &owner, true
		}
	}
	if cmd.Tags != nil {
		tags, err := NormalizeTags(cmd.Tags)
		if err != nil {
			return nil, err
		}
		if !slices.Equal(tags, a.Tags) {
			d.Tags, changed = &tags, true
		}
	}
	if !changed {
		return nil, nil
	}
	return []es.Change{{Type: contracts.TypeAssetClassified, Data: d}}, nil
}

// Link records a directed relation to another asset. The target must be an asset stream id other
// than this asset's; that it exists and is live is checked by the application layer, which can
// read it. Linking twice is refused.
func (a *Asset) Link(relation Relation, target string) ([]es.Change, error) {
	if err := a.live("link"); err != nil {
		return nil, err
	}
	l, err := a.link(relation, target)
	if err != nil {
		return nil, err
	}
	if a.HasLink(l.Relation, l.TargetAssetID) {
		return nil, rule("/target_asset_id", "asset already %s %s", relation, target)
	}
	if len(a.links) >= MaxLinks {
		return nil, rule("/target_asset_id", "an asset has at most %d links", MaxLinks)
	}
	return []es.Change{{Type: contracts.TypeAssetLinked, Data: l}}, nil
}

// Unlink removes a relation; removing one that does not exist is refused.
func (a *Asset) Unlink(relation Relation, target string) ([]es.Change, error) {
	if err := a.live("unlink"); err != nil {
		return nil, err
	}
	l, err := a.link(relation, target)
	if err != nil {
		return nil, err
	}
	if !a.HasLink(l.Relation, l.TargetAssetID) {
		return nil, rule("/target_asset_id", "asset has no %s link to %s", relation, target)
	}
	return []es.Change{{Type: contracts.TypeAssetUnlinked, Data: l}}, nil
}

func (a *Asset) link(relation Relation, target string) (Link, error) {
	if err := oneOf("/relation", relation, contracts.AssetRelationValues()); err != nil {
		return Link{}, err
	}
	if !IsAssetID(target) {
		return Link{}, rule("/target_asset_id", "target_asset_id must be an asset id (assets-asset-<uuid>)")
	}
	if target == a.ID {
		return Link{}, rule("/target_asset_id", "an asset cannot link to itself")
	}
	return Link{Relation: relation, TargetAssetID: target}, nil
}

// IsAssetID reports whether id is an asset stream id, "assets-asset-<uuid>".
func IsAssetID(id string) bool {
	return strings.HasPrefix(id, "assets-asset-") && events.ValidStreamID(id)
}

// ObserveIdentifiers records identifiers a scan saw on the asset (usually Index.Plan's New).
// Only identifiers the asset does not have yet are recorded; none new records nothing.
// A single-valued identifier (image digest, purl, repo URL, base URL, cloud id) that differs from
// the asset's is refused: discovery never rewrites an asset's identity, a person does (Update).
func (a *Asset) ObserveIdentifiers(scan string, ids Identifiers) ([]es.Change, error) {
	if err := a.live("observe_identifiers"); err != nil {
		return nil, err
	}
	sid, err := scanIDField(scan)
	if err != nil {
		return nil, err
	}
	in, rerr := normalizeIdentifiers(a.Kind, ids, "/identifiers", false)
	if rerr != nil {
		return nil, rerr
	}
	cur := a.Identifiers
	var fresh Identifiers
	fresh.IPs = missing(in.IPs, cur.IPs)
	fresh.Hostnames = missing(in.Hostnames, cur.Hostnames)
	fresh.MACs = missing(in.MACs, cur.MACs)
	for _, f := range []struct {
		name     string
		in, have string
		dst      *string
	}{
		{fImageDigest, in.ImageDigest, cur.ImageDigest, &fresh.ImageDigest},
		{fPURL, in.PURL, cur.PURL, &fresh.PURL},
		{fRepoURL, in.RepoURL, cur.RepoURL, &fresh.RepoURL},
		{fBaseURL, in.BaseURL, cur.BaseURL, &fresh.BaseURL},
		{fCloudID, in.CloudID, cur.CloudID, &fresh.CloudID},
	} {
		switch {
		case f.in == "" || f.in == f.have:
		case f.have != "":
			return nil, rule("/identifiers/"+f.name, "the asset's %s is %s; discovery does not change it (update the asset instead)", f.name, f.have)
		default:
			*f.dst = f.in
		}
	}
	if fresh.IsEmpty() {
		return nil, nil
	}
	all := merge(cur, fresh)
	for _, b := range []struct {
		name string
		n    int
		max  int
	}{{fIPs, len(all.IPs), MaxIPs}, {fHostnames, len(all.Hostnames), MaxHostnames}, {fMACs, len(all.MACs), MaxMACs}} {
		if b.n > b.max {
			return nil, rule("/identifiers/"+b.name, "an asset has at most %d %s (this would make %d)", b.max, b.name, b.n)
		}
	}
	return []es.Change{{Type: contracts.TypeAssetIdentifiersObserved, Data: contracts.AssetIdentifiersObserved{ScanID: sid, Identifiers: contracts.AssetIdentifiers(fresh)}}}, nil
}

// missing returns the values of in (sorted) that have does not hold.
func missing(in, have []string) []string {
	var out []string
	for _, v := range in {
		if !slices.Contains(have, v) {
			out = append(out, v)
		}
	}
	return out
}

// Retire takes the asset out of service. A retired asset refuses every command but Reactivate,
// and discovery never matches it (a scan that sees its identifiers again registers a new asset).
func (a *Asset) Retire(reason string) ([]es.Change, error) {
	if err := a.live("retire"); err != nil {
		return nil, err
	}
	r, err := para(reason, "/reason", MaxReasonLen, true)
	if err != nil {
		return nil, err
	}
	return []es.Change{{Type: contracts.TypeAssetRetired, Data: contracts.AssetRetired{Reason: r}}}, nil
}

// Reactivate brings a retired asset back (it was retired by mistake, or the machine returned).
// The application layer should first check with Index.Claimed that no live asset registered
// since holds its strong identifiers.
func (a *Asset) Reactivate(reason string) ([]es.Change, error) {
	if !a.registered {
		return nil, &NotFoundError{AssetID: a.ID}
	}
	if a.Status != StatusRetired {
		return nil, &TransitionError{AssetID: a.ID, From: a.Status, Command: "reactivate"}
	}
	if a.MergedInto != "" {
		return nil, rule("/reason", "asset %s was merged into %s: a merge is final", a.ID, a.MergedInto)
	}
	r, err := para(reason, "/reason", MaxReasonLen, true)
	if err != nil {
		return nil, err
	}
	return []es.Change{{Type: contracts.TypeAssetReactivated, Data: contracts.AssetReactivated{Reason: r}}}, nil
}

// NormalizeTags lower-cases, trims, deduplicates and sorts tags. A tag is 1–64 letters, digits
// or one of - _ . : / = + @ (a letter with no lower case is refused); at most 64 distinct tags.
// Errors point at the offending input tag.
func NormalizeTags(tags []string) ([]string, error) {
	if tags == nil {
		return nil, nil
	}
	out := make([]string, 0, len(tags))
	for i, t := range tags {
		n := strings.ToLower(strings.TrimSpace(t))
		path := fmt.Sprintf("/tags/%d", i)
		switch {
		case n == "":
			return nil, rule(path, "tag is empty")
		case !utf8.ValidString(n):
			return nil, rule(path, "tag is not valid UTF-8")
		case utf8.RuneCountInString(n) > MaxTagLen:
			return nil, rule(path, "tag is longer than %d characters", MaxTagLen)
		}
		if strings.IndexFunc(n, func(r rune) bool {
			letter := unicode.IsLetter(r) && !unicode.IsUpper(r) && !unicode.IsTitle(r) // no lower case: refused
			return !letter && !unicode.IsDigit(r) && !strings.ContainsRune("-_.:/=+@", r)
		}) >= 0 {
			return nil, rule(path, "tag %q may hold only lower-case letters, digits and - _ . : / = + @", clip(n))
		}
		out = append(out, n)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > MaxTags {
		return nil, rule("/tags", "at most %d distinct tags (got %d)", MaxTags, len(out))
	}
	return out, nil
}

// line and para trim s and check it is valid UTF-8 of at most max characters without control
// characters; para (a description, a reason) allows newlines and tabs.
func line(s, path string, max int, required bool) (string, error) {
	return text(s, path, max, required, false)
}

func para(s, path string, max int, required bool) (string, error) {
	return text(s, path, max, required, true)
}

func text(s, path string, max int, required, multiline bool) (string, error) {
	t := strings.TrimSpace(s)
	if required && t == "" {
		return "", rule(path, "%s is required", strings.TrimPrefix(path, "/"))
	}
	if !utf8.ValidString(t) {
		return "", rule(path, "not valid UTF-8")
	}
	if strings.IndexFunc(t, func(r rune) bool {
		return unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t' || r == '\r'))
	}) >= 0 {
		return "", rule(path, "contains control characters")
	}
	if n := utf8.RuneCountInString(t); n > max {
		return "", rule(path, "at most %d characters (got %d)", max, n)
	}
	return t, nil
}

// scanIDField checks a scan id: non-empty, at most 128 characters, no spaces.
func scanIDField(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", rule("/scan_id", "scan_id is required")
	}
	return scanID(s)
}

func scanID(s string) (string, error) {
	if len(s) > MaxScanIDLen || strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 || !utf8.ValidString(s) {
		return "", rule("/scan_id", "scan_id must be 1–%d characters without spaces", MaxScanIDLen)
	}
	return s, nil
}

// oneOf refuses v unless it is one of values, the schema's vocabulary (contracts.<Enum>Values()).
func oneOf[T ~string](path string, v T, values []string) *RuleError {
	if slices.Contains(values, string(v)) {
		return nil
	}
	return rule(path, "%s must be one of %s", strings.TrimPrefix(path, "/"), strings.Join(values, ", "))
}

// classification refuses a criticality, environment or data class outside the schema's
// vocabulary (an empty one is absent), checked in that order by Register and Classify alike.
func classification(c Criticality, e Environment, dc DataClassification) error {
	checks := []struct {
		path, v string
		values  []string
	}{
		{"/criticality", string(c), contracts.CriticalityValues()},
		{"/environment", string(e), contracts.EnvironmentValues()},
		{"/data_classification", string(dc), contracts.DataClassificationValues()},
	}
	for _, f := range checks {
		if f.v == "" {
			continue
		}
		if err := oneOf(f.path, f.v, f.values); err != nil {
			return err
		}
	}
	return nil
}
