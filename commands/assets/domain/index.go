package domain

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
)

// MatchRule names the rule by which a discovered asset matched a known one (see the package doc).
type MatchRule string

const (
	RuleCloudID     MatchRule = "cloud_id"
	RuleImageDigest MatchRule = "image_digest"
	RuleRepoURL     MatchRule = "repo_url"
	RuleBaseURL     MatchRule = "base_url"
	RuleMAC         MatchRule = "mac"
	RulePURL        MatchRule = "purl"
	RuleHostname    MatchRule = "hostname"
	RuleIP          MatchRule = "ip"
)

// Why a weaker rule declined to match (Resolution.Reasons).
const (
	ReasonHostnameAmbiguous        = "hostname_ambiguous"
	ReasonIPAmbiguous              = "ip_ambiguous"
	ReasonIPContradictedByMAC      = "ip_contradicted_by_mac"
	ReasonIPContradictedByCloudID  = "ip_contradicted_by_cloud_id"
	ReasonPURLAmbiguous            = "purl_ambiguous"
	ReasonPURLContradictedByDigest = "purl_contradicted_by_image_digest"
	ReasonUnknownKind              = "unknown_kind"
	ReasonNoUsableIdentifiers      = "no_usable_identifiers"
)

// Why Plan did not propose an identifier of a matched asset (the start of Dropped.Reason).
const (
	ReasonIdentifierOfAnotherAsset  = "belongs to another asset"
	ReasonDifferentSingleIdentifier = "the asset has a different value"
)

// key is one identifier of one kind, as the index holds it.
type key struct {
	kind  AssetKind
	field string
	value string
}

type entry struct {
	kind    AssetKind
	name    string
	weak    string // weak key, for an asset registered weakly
	ids     Identifiers
	retired bool
}

// Index maps identifiers to the live assets holding them, so discovery can tell whether a scanned
// asset is already known. It holds no I/O: the application layer feeds it every asset event
// (Apply) or the current state of each asset (Observe). It is safe for concurrent use.
type Index struct {
	mu     sync.RWMutex
	assets map[string]*entry
	keys   map[key]map[string]struct{}    // live assets only
	names  map[string]map[string]struct{} // name → assets (live or retired) of that name
	weak   map[string]string              // weak key → the live asset registered with it
	merged map[string]string              // merged asset → the asset it was merged into
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	return &Index{assets: map[string]*entry{}, keys: map[key]map[string]struct{}{}, names: map[string]map[string]struct{}{}, weak: map[string]string{}, merged: map[string]string{}}
}

// Len returns how many assets (live or retired) the index knows.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.assets)
}

// Lookup returns what the index knows of an asset.
func (x *Index) Lookup(assetID string) (kind AssetKind, ids Identifiers, retired bool, ok bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	e := x.assets[assetID]
	if e == nil {
		return "", Identifiers{}, false, false
	}
	return e.kind, e.ids, e.retired, true
}

// Apply updates the index from one event. Events of other streams and types are ignored, as are
// events of assets the index has not seen registered.
func (x *Index) Apply(e *events.Envelope) error {
	if !IsAssetID(e.StreamID) {
		return nil
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if err := x.apply(e, x.assets[e.StreamID]); err != nil {
		return fmt.Errorf("%s %s: %w", e.Type, e.StreamID, err)
	}
	return nil
}

// apply is Apply under the lock; cur is the asset's entry, nil before its registration.
func (x *Index) apply(e *events.Envelope, cur *entry) error {
	switch e.Type {
	case contracts.TypeAssetRegistered:
		return events.OnPayload(e.Data, func(d contracts.AssetRegistered) {
			x.set(e.StreamID, d.Kind, Identifiers(d.Identifiers), false)
			x.rename(e.StreamID, d.Name)
		})
	case contracts.TypeAssetRegisteredWeakly:
		return events.OnPayload(e.Data, func(d contracts.AssetRegisteredWeakly) {
			x.set(e.StreamID, d.Kind, Identifiers{}, false)
			x.rename(e.StreamID, d.Name)
			x.setWeak(e.StreamID, d.WeakKey)
		})
	case contracts.TypeAssetUpdated:
		return events.OnPayload(e.Data, func(d contracts.AssetUpdated) {
			if cur != nil && d.Identifiers != nil {
				x.set(e.StreamID, cur.kind, Identifiers(*d.Identifiers), cur.retired)
			}
			if cur != nil && d.Name != nil {
				x.rename(e.StreamID, *d.Name)
			}
		})
	case contracts.TypeAssetIdentifiersObserved:
		return events.OnPayload(e.Data, func(d contracts.AssetIdentifiersObserved) {
			if cur != nil {
				x.set(e.StreamID, cur.kind, merge(cur.ids, Identifiers(d.Identifiers)), cur.retired)
			}
		})
	case contracts.TypeAssetRetired, contracts.TypeAssetReactivated:
		if cur != nil {
			x.set(e.StreamID, cur.kind, cur.ids, e.Type == contracts.TypeAssetRetired)
		}
	case contracts.TypeAssetMergedInto:
		return events.OnPayload(e.Data, func(d contracts.AssetMergedInto) {
			if cur != nil {
				x.set(e.StreamID, cur.kind, cur.ids, true)
				x.merged[e.StreamID] = d.TargetAssetID
			}
		})
	}
	return nil
}

// IndexEntry is one asset as the index holds it: what Entries exports and Restore loads, so a
// lookup can snapshot the index instead of replaying every asset event at start.
type IndexEntry struct {
	ID          string
	Kind        AssetKind
	Name        string
	WeakKey     string `json:",omitempty"`
	MergedInto  string `json:",omitempty"`
	Identifiers Identifiers
	Retired     bool
}

// Entries lists every asset the index knows, sorted by id.
func (x *Index) Entries() []IndexEntry {
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := make([]IndexEntry, 0, len(x.assets))
	for id, e := range x.assets {
		out = append(out, IndexEntry{ID: id, Kind: e.kind, Name: e.name, WeakKey: e.weak, MergedInto: x.merged[id], Identifiers: e.ids, Retired: e.retired})
	}
	slices.SortFunc(out, func(a, b IndexEntry) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Restore replaces what the index knows with entries (as Entries returned them). Identifiers are
// taken as they are: they were normalised when first indexed.
func (x *Index) Restore(entries []IndexEntry) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.assets = make(map[string]*entry, len(entries))
	x.keys = map[key]map[string]struct{}{}
	x.names = map[string]map[string]struct{}{}
	x.weak = map[string]string{}
	x.merged = map[string]string{}
	for _, e := range entries {
		x.set(e.ID, e.Kind, e.Identifiers, e.Retired)
		x.rename(e.ID, e.Name)
		x.setWeak(e.ID, e.WeakKey)
		if e.MergedInto != "" {
			x.merged[e.ID] = e.MergedInto
		}
	}
}

// Aliases returns the assets merged into assetID, directly or through others (a merged into b
// merged into c: both are c's aliases), sorted: their findings are assetID's.
func (x *Index) Aliases(assetID string) []string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var out []string
	for src := range x.merged {
		x.follow(src, func(at string) bool {
			if at == assetID {
				out = append(out, src)
				return false
			}
			return true
		})
	}
	slices.Sort(out)
	return out
}

// follow calls visit with each asset src's merges lead to, in order, until visit returns false
// or the chain ends; under x.mu. A merge into a retired asset is refused, so a chain has no
// cycle, but it is bounded anyway.
func (x *Index) follow(src string, visit func(at string) bool) {
	at := src
	for i := 0; i <= len(x.merged); i++ {
		next, ok := x.merged[at]
		if !ok || !visit(next) {
			return
		}
		at = next
	}
}

// Survivor returns where assetID's merges end: the asset it was merged into, followed through
// that one's merges; assetID itself when it was not merged.
func (x *Index) Survivor(assetID string) string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	end := assetID
	x.follow(assetID, func(at string) bool { end = at; return true })
	return end
}

// Weak returns the live asset registered with the weak key (see WeakKey), if any.
func (x *Index) Weak(weakKey string) (string, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	id, ok := x.weak[weakKey]
	return id, ok
}

// setWeak records an asset's weak key. Callers hold the write lock; the asset's entry exists.
func (x *Index) setWeak(id, weakKey string) {
	e := x.assets[id]
	if e == nil || weakKey == "" {
		return
	}
	e.weak = weakKey
	if !e.retired {
		x.weak[weakKey] = id
	}
}

// Named returns the assets (live or retired) whose name is exactly name, sorted.
func (x *Index) Named(name string) []string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return slices.Sorted(maps.Keys(x.names[name]))
}

// rename records an asset's name. Callers hold the write lock; the asset's entry exists.
func (x *Index) rename(id, name string) {
	e := x.assets[id]
	if e == nil || e.name == name {
		return
	}
	if s := x.names[e.name]; s != nil {
		delete(s, id)
		if len(s) == 0 {
			delete(x.names, e.name)
		}
	}
	e.name = name
	if name == "" {
		return
	}
	s := x.names[name]
	if s == nil {
		s = map[string]struct{}{}
		x.names[name] = s
	}
	s[id] = struct{}{}
}

// Observe sets what the index knows of one asset (its kind, all its identifiers, whether it is
// retired), replacing what it knew. Identifiers are normalised leniently: invalid values and
// placeholders are left out.
func (x *Index) Observe(assetID string, kind AssetKind, ids Identifiers, retired bool) {
	norm, _ := lenient(kind, ids)
	x.mu.Lock()
	defer x.mu.Unlock()
	x.set(assetID, kind, norm, retired)
}

// set replaces an asset's entry and its keys. Callers hold the write lock.
func (x *Index) set(id string, kind AssetKind, ids Identifiers, retired bool) {
	if old := x.assets[id]; old != nil && !old.retired {
		for _, k := range indexKeys(old.kind, old.ids) {
			if s := x.keys[k]; s != nil {
				delete(s, id)
				if len(s) == 0 {
					delete(x.keys, k)
				}
			}
		}
	}
	var name, weak string
	if old := x.assets[id]; old != nil {
		name, weak = old.name, old.weak
	}
	x.assets[id] = &entry{kind: kind, name: name, weak: weak, ids: ids, retired: retired}
	if weak != "" {
		// A retired weak asset frees its key: the next report naming the target registers anew.
		if retired && x.weak[weak] == id {
			delete(x.weak, weak)
		} else if !retired {
			x.weak[weak] = id
		}
	}
	if retired {
		return
	}
	for _, k := range indexKeys(kind, ids) {
		s := x.keys[k]
		if s == nil {
			s = map[string]struct{}{}
			x.keys[k] = s
		}
		s[id] = struct{}{}
	}
}

// indexKeys lists the identifiers of an asset that matching may use.
func indexKeys(kind AssetKind, ids Identifiers) []key {
	var out []key
	add := func(field, v string) {
		if v != "" {
			out = append(out, key{kind, field, v})
		}
	}
	add(fCloudID, ids.CloudID)
	add(fImageDigest, ids.ImageDigest)
	add(fPURL, ids.PURL)
	add(fRepoURL, ids.RepoURL)
	add(fBaseURL, ids.BaseURL)
	for _, m := range ids.MACs {
		if !PlaceholderMAC(m) {
			add(fMACs, m)
		}
	}
	for _, h := range ids.Hostnames {
		if !PlaceholderHostname(h) {
			add(fHostnames, h)
		}
	}
	for _, ip := range ids.IPs {
		if matchableIP(ip) {
			add(fIPs, ip)
		}
	}
	return out
}

// owners returns the live assets of kind holding field=value, sorted (oldest UUIDv7 first).
func (x *Index) owners(kind AssetKind, field, value string) []string {
	s := x.keys[key{kind, field, value}]
	out := make([]string, 0, len(s))
	for id := range s {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// Resolution is the outcome of matching one discovered asset.
type Resolution struct {
	AssetID string    `json:"asset_id,omitempty"` // the known asset it is; "" for a new asset
	Rule    MatchRule `json:"rule,omitempty"`     // the rule that matched
	// Conflicts are other live assets that one of the incoming strong identifiers also belongs to.
	Conflicts []string `json:"conflicts,omitempty"`
	// Reasons say why weaker rules declined (ip_ambiguous, ip_contradicted_by_mac, …).
	Reasons []string `json:"reasons,omitempty"`
}

// Matched reports whether a known asset was found.
func (r Resolution) Matched() bool { return r.AssetID != "" }

// Match returns the known live asset that a discovered asset is, and the rule that said so.
func (x *Index) Match(a Sighting) (assetID string, rule string, ok bool) {
	d := FromDiscovery(a)
	x.mu.RLock()
	defer x.mu.RUnlock()
	r := x.resolve(d.Kind, d.Identifiers)
	return r.AssetID, string(r.Rule), r.Matched()
}

// Resolve is Match with the explanation: conflicts and the reasons weaker rules declined.
func (x *Index) Resolve(a Sighting) Resolution {
	d := FromDiscovery(a)
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.resolve(d.Kind, d.Identifiers)
}

// resolve applies the matching rules in order. Callers hold a read lock; ids are normalised.
func (x *Index) resolve(kind AssetKind, ids Identifiers) Resolution {
	var r Resolution
	if !validKind(kind) {
		r.Reasons = []string{ReasonUnknownKind}
		return r
	}
	if ids.IsEmpty() {
		r.Reasons = []string{ReasonNoUsableIdentifiers}
		return r
	}
	strong := []struct {
		rule   MatchRule
		field  string
		values []string
	}{
		{RuleCloudID, fCloudID, nonEmpty(ids.CloudID)},
		{RuleImageDigest, fImageDigest, nonEmpty(ids.ImageDigest)},
		{RuleRepoURL, fRepoURL, nonEmpty(ids.RepoURL)},
		{RuleBaseURL, fBaseURL, nonEmpty(ids.BaseURL)},
		{RuleMAC, fMACs, matchableMACs(ids.MACs)},
	}
	// Rules 1–5: strong identifiers; the oldest owner wins, the others are conflicts.
	for _, s := range strong {
		var found []string
		for _, v := range s.values {
			found = append(found, x.owners(kind, s.field, v)...)
		}
		if len(found) == 0 {
			continue
		}
		slices.Sort(found)
		r.AssetID, r.Rule = found[0], s.rule
		break
	}
	if r.Matched() {
		var others []string
		for _, s := range strong {
			for _, v := range s.values {
				for _, o := range x.owners(kind, s.field, v) {
					if o != r.AssetID {
						others = append(others, o)
					}
				}
			}
		}
		slices.Sort(others)
		r.Conflicts = slices.Compact(others)
		return r
	}
	// Rule 6: purl, unambiguous and not contradicted by a digest.
	if ids.PURL != "" {
		switch o := x.owners(kind, fPURL, ids.PURL); {
		case len(o) > 1:
			r.Reasons = append(r.Reasons, ReasonPURLAmbiguous)
		case len(o) == 1:
			cand := x.assets[o[0]].ids
			if ids.ImageDigest != "" && cand.ImageDigest != "" && ids.ImageDigest != cand.ImageDigest {
				r.Reasons = append(r.Reasons, ReasonPURLContradictedByDigest)
			} else {
				r.AssetID, r.Rule = o[0], RulePURL
				return r
			}
		}
	}
	// Rule 7: hostname, unambiguous.
	var hosts []string
	for _, h := range ids.Hostnames {
		if !PlaceholderHostname(h) {
			hosts = append(hosts, h)
		}
	}
	if cand, ambiguous := x.vote(kind, fHostnames, hosts); cand != "" {
		r.AssetID, r.Rule = cand, RuleHostname
		return r
	} else if ambiguous {
		r.Reasons = append(r.Reasons, ReasonHostnameAmbiguous)
	}
	// Rule 8: IP, unambiguous and not contradicted by a MAC or a cloud id.
	var ips []string
	for _, ip := range ids.IPs {
		if matchableIP(ip) {
			ips = append(ips, ip)
		}
	}
	if cand, ambiguous := x.vote(kind, fIPs, ips); cand != "" {
		c := x.assets[cand].ids
		inMACs, candMACs := matchableMACs(ids.MACs), matchableMACs(c.MACs)
		switch {
		case len(inMACs) > 0 && len(candMACs) > 0 && !overlap(inMACs, candMACs):
			r.Reasons = append(r.Reasons, ReasonIPContradictedByMAC)
		case ids.CloudID != "" && c.CloudID != "" && ids.CloudID != c.CloudID:
			r.Reasons = append(r.Reasons, ReasonIPContradictedByCloudID)
		default:
			r.AssetID, r.Rule = cand, RuleIP
			return r
		}
	} else if ambiguous {
		r.Reasons = append(r.Reasons, ReasonIPAmbiguous)
	}
	return r
}

// vote returns the single asset that the values held by exactly one live asset point at. Values
// held by several assets do not vote; votes for different assets make the rule ambiguous.
func (x *Index) vote(kind AssetKind, field string, values []string) (string, bool) {
	cand, ambiguous := "", false
	for _, v := range values {
		o := x.owners(kind, field, v)
		switch {
		case len(o) > 1:
			ambiguous = true
		case len(o) == 1 && cand == "":
			cand = o[0]
		case len(o) == 1 && cand != o[0]:
			return "", true
		}
	}
	return cand, ambiguous
}

func nonEmpty(v string) []string {
	if v == "" {
		return nil
	}
	return []string{v}
}

func matchableMACs(macs []string) []string {
	var out []string
	for _, m := range macs {
		if !PlaceholderMAC(m) {
			out = append(out, m)
		}
	}
	return out
}

func overlap(a, b []string) bool {
	for _, v := range a {
		if slices.Contains(b, v) {
			return true
		}
	}
	return false
}

// Claim is a strong identifier already held by another live asset.
type Claim struct {
	Field   string `json:"field"` // "macs", "cloud_id", …
	Value   string `json:"value"`
	AssetID string `json:"asset_id"`
}

// Claimed lists the strong identifiers of ids (cloud id, image digest, repo URL, base URL, MACs)
// that live assets of the same kind other than except already hold. The application layer calls
// it before RegisterAsset, an identifier Update or Reactivate, to refuse a second asset with the
// same identity. ids must be normalised (NormalizeIdentifiers).
func (x *Index) Claimed(kind AssetKind, ids Identifiers, except string) []Claim {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var out []Claim
	check := func(field string, values []string) {
		for _, v := range values {
			for _, o := range x.owners(kind, field, v) {
				if o != except {
					out = append(out, Claim{Field: field, Value: v, AssetID: o})
				}
			}
		}
	}
	check(fCloudID, nonEmpty(ids.CloudID))
	check(fImageDigest, nonEmpty(ids.ImageDigest))
	check(fRepoURL, nonEmpty(ids.RepoURL))
	check(fBaseURL, nonEmpty(ids.BaseURL))
	check(fMACs, matchableMACs(ids.MACs))
	return out
}

// Dropped is an identifier of a discovered asset that was left out, with why. Field is a JSON
// pointer into the Sighting's identifiers ("/ips/2", "/image_digest").
type Dropped struct {
	Field  string `json:"field"`
	Value  string `json:"value"`
	Reason string `json:"reason"`
}

// Discovered is a scanned asset in the terms of this context.
type Discovered struct {
	Kind        AssetKind   `json:"kind"`
	Name        string      `json:"name"`
	Identifiers Identifiers `json:"identifiers"` // normalised, placeholders and invalid values left out
	Dropped     []Dropped   `json:"dropped,omitempty"`
}

// Sighting is what a scan reports about an asset, in this context's words: the scans context
// translates its parsers' report assets into it, so this domain depends on no scanner format.
// The identifiers are as reported (not yet normalised); the field names are those of
// Identifiers, which Dropped pointers name.
type Sighting struct {
	Kind        AssetKind
	Name        string
	ImageName   string // a container image's name, used when Name is empty
	IPs         []string
	Hostnames   []string
	MACs        []string
	ImageDigest string
	PURL        string
	RepoURL     string
	BaseURL     string
	CloudID     string
}

// FromDiscovery normalises what a scanner reported about an asset, leniently: invalid
// identifiers, identifiers the kind does not carry, and placeholders are dropped (and listed),
// a base URL with a path is reduced to its origin, lists beyond their bound are cut.
func FromDiscovery(a Sighting) Discovered {
	kind := a.Kind
	ids, dropped := lenient(kind, Identifiers{
		IPs: a.IPs, Hostnames: a.Hostnames, MACs: a.MACs, ImageDigest: a.ImageDigest, PURL: a.PURL,
		RepoURL: a.RepoURL, BaseURL: a.BaseURL, CloudID: a.CloudID,
	})
	d := Discovered{Kind: kind, Identifiers: ids, Dropped: dropped}
	d.Name = cleanName(a.Name)
	if d.Name == "" {
		d.Name = cleanName(a.ImageName)
	}
	for _, c := range [][]string{ids.Hostnames, ids.IPs, ids.MACs, {ids.ImageDigest, ids.PURL, ids.RepoURL, ids.BaseURL, ids.CloudID}} {
		for _, v := range c {
			if d.Name == "" && v != "" {
				d.Name = cleanName(v)
			}
		}
	}
	return d
}

// cleanName makes a discovered name fit an asset name: control characters become spaces, the
// result is trimmed and cut to MaxNameLen characters.
func cleanName(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > MaxNameLen {
		s = strings.TrimSpace(string([]rune(s)[:MaxNameLen]))
	}
	return s
}

// lenient normalises ids for kind, dropping instead of refusing. Pointers in Dropped have no
// prefix ("/ips/2"), matching the field names of Identifiers.
func lenient(kind AssetKind, ids Identifiers) (Identifiers, []Dropped) {
	var out Identifiers
	var dropped []Dropped
	drop := func(field, value, reason string) {
		dropped = append(dropped, Dropped{Field: field, Value: clip(value), Reason: reason})
	}
	allowed := func(f string) bool { return validKind(kind) && slices.Contains(applicable[kind], f) }
	list := func(f string, in []string, max int, norm func(string) (string, error), placeholder func(string) bool, cmp func(x, y string) int) []string {
		var res []string
		for i, v := range in {
			p := fmt.Sprintf("/%s/%d", f, i)
			if !allowed(f) {
				drop(p, v, fmt.Sprintf("a %s has no %s", kind, f))
				continue
			}
			n, err := norm(v)
			if err != nil {
				drop(p, v, err.Error())
				continue
			}
			if placeholder(n) {
				drop(p, v, "placeholder, identifies nothing")
				continue
			}
			res = append(res, n)
		}
		slices.SortFunc(res, cmp)
		res = slices.Compact(res)
		if len(res) > max {
			for _, v := range res[max:] {
				drop("/"+f, v, fmt.Sprintf("more than %d %s", max, f))
			}
			res = res[:max]
		}
		return res
	}
	out.IPs = list(fIPs, ids.IPs, MaxIPs, NormalizeIP, PlaceholderIP, contracts.CompareIP)
	out.Hostnames = list(fHostnames, ids.Hostnames, MaxHostnames, NormalizeHostname, PlaceholderHostname, strings.Compare)
	out.MACs = list(fMACs, ids.MACs, MaxMACs, NormalizeMAC, PlaceholderMAC, strings.Compare)
	one := func(f, v string, norm func(string) (string, error)) string {
		switch {
		case strings.TrimSpace(v) == "":
			return ""
		case !allowed(f):
			drop("/"+f, v, fmt.Sprintf("a %s has no %s", kind, f))
			return ""
		}
		n, err := norm(v)
		if err != nil {
			drop("/"+f, v, err.Error())
			return ""
		}
		return n
	}
	out.ImageDigest = one(fImageDigest, ids.ImageDigest, NormalizeImageDigest)
	out.PURL = one(fPURL, ids.PURL, NormalizePURL)
	out.RepoURL = one(fRepoURL, ids.RepoURL, NormalizeRepoURL)
	out.BaseURL = one(fBaseURL, ids.BaseURL, func(s string) (string, error) { return normalizeBaseURL(s, true) })
	out.CloudID = one(fCloudID, ids.CloudID, NormalizeCloudID)
	return out, dropped
}

// Plan is what the application layer does with one discovered asset.
type Plan struct {
	Discovered
	Resolution
	// New holds, for a match, the identifiers the asset does not have yet: record them with
	// Asset.ObserveIdentifiers (nothing to record when empty).
	New Identifiers `json:"new,omitempty"`
	// Problem says, without a match, why the discovered asset cannot be registered (a repository
	// without a repo URL); nil when RegisterAsset{Kind, Name, Identifiers} would be accepted.
	Problem error `json:"-"`
}

// Plan matches a discovered asset and says what to record: for a match, the new identifiers; for
// no match, the asset to register (or the Problem that prevents it).
func (x *Index) Plan(a Sighting) Plan {
	p := Plan{Discovered: FromDiscovery(a)}
	x.mu.RLock()
	defer x.mu.RUnlock()
	p.Resolution = x.resolve(p.Kind, p.Identifiers)
	if !p.Matched() {
		// The identifiers first: without them there is no name either, and they are what is missing.
		if _, err := normalizeIdentifiers(p.Kind, p.Identifiers, "/identifiers", true); err != nil {
			p.Problem = err
		} else if _, err := validateRegistration(RegisterAsset{Kind: p.Kind, Name: p.Name, Identifiers: p.Identifiers}); err != nil {
			p.Problem = err
		}
		return p
	}
	have := x.assets[p.AssetID].ids
	in := p.Identifiers
	other := func(field, v string) string {
		for _, o := range x.owners(p.Kind, field, v) {
			if o != p.AssetID {
				return o
			}
		}
		return ""
	}
	fresh := func(f string, in, have []string, max int, strong bool) []string {
		var res []string
		for _, v := range in {
			if slices.Contains(have, v) {
				continue
			}
			if strong {
				if o := other(f, v); o != "" {
					p.Dropped = append(p.Dropped, Dropped{Field: "/" + f, Value: v, Reason: ReasonIdentifierOfAnotherAsset + " " + o})
					continue
				}
			}
			if len(have)+len(res) >= max {
				p.Dropped = append(p.Dropped, Dropped{Field: "/" + f, Value: v, Reason: fmt.Sprintf("the asset already has %d %s", max, f)})
				continue
			}
			res = append(res, v)
		}
		return res
	}
	p.New.IPs = fresh(fIPs, in.IPs, have.IPs, MaxIPs, false)
	p.New.Hostnames = fresh(fHostnames, in.Hostnames, have.Hostnames, MaxHostnames, false)
	p.New.MACs = fresh(fMACs, in.MACs, have.MACs, MaxMACs, true)
	for _, f := range []struct {
		name     string
		in, have string
		dst      *string
		strong   bool
	}{
		{fImageDigest, in.ImageDigest, have.ImageDigest, &p.New.ImageDigest, true},
		{fPURL, in.PURL, have.PURL, &p.New.PURL, false},
		{fRepoURL, in.RepoURL, have.RepoURL, &p.New.RepoURL, true},
		{fBaseURL, in.BaseURL, have.BaseURL, &p.New.BaseURL, true},
		{fCloudID, in.CloudID, have.CloudID, &p.New.CloudID, true},
	} {
		switch {
		case f.in == "" || f.in == f.have:
		case f.have != "":
			p.Dropped = append(p.Dropped, Dropped{Field: "/" + f.name, Value: f.in, Reason: ReasonDifferentSingleIdentifier + " (" + f.have + ")"})
		case f.strong && other(f.name, f.in) != "":
			p.Dropped = append(p.Dropped, Dropped{Field: "/" + f.name, Value: f.in, Reason: ReasonIdentifierOfAnotherAsset + " " + other(f.name, f.in)})
		default:
			*f.dst = f.in
		}
	}
	return p
}
