package assets

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections/readkit"
	"github.com/socplatform/soc/projections/vulns"
	"github.com/socplatform/soc/schemas/contracts"
)

// IsAssetEvent reports whether events of type t change an asset (what ApplyAsset folds).
func IsAssetEvent(t string) bool {
	switch t {
	case contracts.TypeAssetRegistered, contracts.TypeAssetUpdated, contracts.TypeAssetClassified, contracts.TypeAssetLinked, contracts.TypeAssetUnlinked,
		contracts.TypeAssetIdentifiersObserved, contracts.TypeAssetRetired, contracts.TypeAssetReactivated, contracts.TypeAssetRegisteredWeakly,
		contracts.TypeAssetMergedInto, contracts.TypeAssetMerged:
		return true
	}
	return false
}

// identifiersData is an asset's identifiers as the events carry them (the generated type, plus
// the read model's view of it).
type identifiersData contracts.AssetIdentifiers

func (d identifiersData) identifierMap() map[string][]string {
	m := map[string][]string{}
	put := func(k string, v []string) {
		if len(v) > 0 {
			m[k] = slices.Clone(v)
		}
	}
	one := func(k, v string) {
		if v != "" {
			m[k] = []string{v}
		}
	}
	put("ips", d.IPs)
	put("hostnames", d.Hostnames)
	put("macs", d.MACs)
	one("image_digest", d.ImageDigest)
	one("purl", d.PURL)
	one("repo_url", d.RepoURL)
	one("base_url", d.BaseURL)
	one("cloud_id", d.CloudID)
	if len(m) == 0 {
		return nil
	}
	return m
}

// mergeIdentifiers adds observed identifiers as the assets domain does: lists are unions (IPs in
// address order, the rest in byte order), a single-valued identifier keeps the value it had.
func mergeIdentifiers(have map[string][]string, seen map[string][]string) map[string][]string {
	out := make(map[string][]string, len(have)+len(seen))
	for k, v := range have {
		out[k] = slices.Clone(v)
	}
	for k, v := range seen {
		switch k {
		case "ips", "hostnames", "macs":
			all := append(slices.Clone(out[k]), v...)
			if k == "ips" {
				slices.SortFunc(all, contracts.CompareIP)
			} else {
				slices.Sort(all)
			}
			out[k] = slices.Compact(all)
		default:
			if len(out[k]) == 0 {
				out[k] = slices.Clone(v)
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// ApplyAsset folds one assets event into a (nil before the stream's first event) and returns the
// new state. It is the only code that turns asset events into a row: Apply, FoldAsset and the
// analytics fold share it.
func ApplyAsset(a *Asset, e *events.Envelope) (*Asset, error) {
	if a == nil && e.Type != contracts.TypeAssetRegistered && e.Type != contracts.TypeAssetRegisteredWeakly {
		return nil, fmt.Errorf("%s before AssetRegistered in stream %s", e.Type, e.StreamID)
	}
	if a != nil {
		c := *a // never change the caller's row in place: Apply compares before and after
		a = &c
	}
	switch e.Type {
	case contracts.TypeAssetRegistered:
		var d contracts.AssetRegistered
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return nil, err
		}
		if d.Kind == "" || d.Name == "" {
			return nil, errors.New(contracts.TypeAssetRegistered + " without kind or name")
		}
		a = &Asset{
			ID: e.StreamID, Kind: string(d.Kind), Name: d.Name, Description: d.Description,
			Identifiers: identifiersData(d.Identifiers).identifierMap(), Criticality: string(d.Criticality), Environment: string(d.Environment),
			OwnerTeam: d.OwnerTeam, DataClassification: string(d.DataClassification), Tags: readkit.NonEmpty(d.Tags),
			Status: "active", CreatedAt: readkit.EventTime(e),
		}
	case contracts.TypeAssetRegisteredWeakly:
		var d contracts.AssetRegisteredWeakly
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return nil, err
		}
		if d.Kind == "" || d.Name == "" || d.WeakKey == "" {
			return nil, errors.New(contracts.TypeAssetRegisteredWeakly + " without kind, name or weak key")
		}
		// A weakly identified asset shows its weak key as its only identifier, "weak".
		a = &Asset{ID: e.StreamID, Kind: string(d.Kind), Name: d.Name, Identifiers: map[string][]string{WeakIdentifier: {d.WeakKey}},
			Status: "active", CreatedAt: readkit.EventTime(e)}
	case contracts.TypeAssetUpdated:
		var d contracts.AssetUpdated
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return nil, err
		}
		if d.Name != nil {
			a.Name = *d.Name
		}
		if d.Description != nil {
			a.Description = *d.Description
		}
		if d.Identifiers != nil {
			a.Identifiers = identifiersData(*d.Identifiers).identifierMap() // the complete new set
		}
	case contracts.TypeAssetClassified:
		var d contracts.AssetClassified
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return nil, err
		}
		if d.Criticality != nil && *d.Criticality != "" {
			a.Criticality = string(*d.Criticality)
		}
		if d.Environment != nil && *d.Environment != "" {
			a.Environment = string(*d.Environment)
		}
		if d.DataClassification != nil && *d.DataClassification != "" {
			a.DataClassification = string(*d.DataClassification)
		}
		if d.OwnerTeam != nil {
			a.OwnerTeam = *d.OwnerTeam // "" clears it
		}
		if d.Tags != nil {
			a.Tags = readkit.NonEmpty(*d.Tags) // the complete set; [] clears it
		}
	case contracts.TypeAssetLinked, contracts.TypeAssetUnlinked:
		var d contracts.AssetLinked // AssetUnlinked has the same fields
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return nil, err
		}
		l := AssetLink{Relation: string(d.Relation), Target: d.TargetAssetID}
		i, found := slices.BinarySearchFunc(a.Links, l, compareLinks)
		switch {
		case e.Type == contracts.TypeAssetLinked && !found:
			a.Links = slices.Insert(slices.Clone(a.Links), i, l)
		case e.Type == contracts.TypeAssetUnlinked && found:
			a.Links = slices.Delete(slices.Clone(a.Links), i, i+1)
			if len(a.Links) == 0 {
				a.Links = nil
			}
		}
	case contracts.TypeAssetIdentifiersObserved:
		var d contracts.AssetIdentifiersObserved
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return nil, err
		}
		a.Identifiers = mergeIdentifiers(a.Identifiers, identifiersData(d.Identifiers).identifierMap())
	case contracts.TypeAssetRetired, contracts.TypeAssetReactivated:
		var d struct {
			Reason string `json:"reason"`
		}
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return nil, err
		}
		a.Status = "active"
		if e.Type == contracts.TypeAssetRetired {
			a.Status = "retired"
		}
	case contracts.TypeAssetMergedInto:
		// Merged into another asset, for good: its findings are the target's now (the findings
		// read model re-points them on the target's AssetMerged, and its totals follow).
		var d contracts.AssetMergedInto
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return nil, err
		}
		a.Status, a.MergedInto = "merged", d.TargetAssetID
	case contracts.TypeAssetMerged:
		// Nothing of the row changes but its version: the findings read model moves the source's
		// findings and totals here.
	default:
		return a, nil
	}
	a.UpdatedAt, a.Version = readkit.EventTime(e), e.Version
	return a, nil
}

func compareLinks(x, y AssetLink) int {
	if c := strings.Compare(x.Relation, y.Relation); c != 0 {
		return c
	}
	return strings.Compare(x.Target, y.Target)
}

// FoldAsset rebuilds an asset from its stream's events (in version order) with the code the
// assets projection applies, for point-in-time reads. What other streams contribute cannot be
// known as of a past time: OpenFindings is all zeros and Risk says so.
func FoldAsset(evs []events.Envelope) (*Asset, error) {
	a, err := readkit.Fold(evs, IsAssetEvent, ApplyAsset)
	if err != nil {
		return nil, err
	}
	a.OpenFindings = vulns.ZeroCounts()
	a.Risk = Risk{Formula: "not available as of a past time: open findings and risk depend on other streams (the findings')", Components: []RiskComponent{}}
	return a, nil
}
