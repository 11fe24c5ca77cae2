package domain

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
)

const (
	macA       = "AA:BB:CC:00:00:01"
	macB       = "AA:BB:CC:00:00:02"
	macRetired = "AA:BB:CC:00:00:09"
	macLL      = "AA:BB:CC:00:00:14"
	arn2       = "arn:aws:ec2:eu-west-1:123456789012:instance/i-0def"
	scanID1    = "scans-scan-0190a000-0000-7000-8000-000000000077"
)

// fixture registers, through the aggregate and its events, the assets the matching tests use.
//
//	1  host  a.corp.example   10.0.0.1        macA
//	2  host                   10.0.0.2        macB
//	3  host  c.corp.example   10.0.0.3        (no MAC)
//	4  host  shared.corp.example 10.0.0.9     (shares its name and IP with 5)
//	5  host  shared.corp.example 10.0.0.9
//	6  host                   10.0.0.6        cloud id arn1
//	7  cloud_resource                         cloud id arn1
//	8  container_image        digest1, pkg:oci/app@digest1
//	9  container_image        digest2, pkg:docker/library/nginx@1.25
//	10 container_image        pkg:docker/library/redis@7?arch=amd64&os=linux (no digest)
//	11 repository             https://github.com/org/repo
//	12 web_application        https://example.com
//	13 host (retired) old.corp.example 10.0.0.50 macRetired
//	14 host                   169.254.7.7 (link-local only)  macLL
//	16, 17 repository         https://gitlab.com/g/p (registered twice: a duplicate)
func fixture(t *testing.T) *Index {
	t.Helper()
	idx := NewIndex()
	host := func(n int, ids Identifiers) {
		registered(t, assetID(n), RegisterAsset{Kind: Host, Name: "host " + itoa(n), Identifiers: ids}, idx)
	}
	host(1, Identifiers{IPs: []string{"10.0.0.1"}, Hostnames: []string{"a.corp.example"}, MACs: []string{macA}})
	host(2, Identifiers{IPs: []string{"10.0.0.2"}, MACs: []string{macB}})
	host(3, Identifiers{IPs: []string{"10.0.0.3"}, Hostnames: []string{"c.corp.example"}})
	host(4, Identifiers{IPs: []string{"10.0.0.9"}, Hostnames: []string{"shared.corp.example"}})
	host(5, Identifiers{IPs: []string{"10.0.0.9"}, Hostnames: []string{"shared.corp.example"}})
	host(6, Identifiers{IPs: []string{"10.0.0.6"}, CloudID: arn1})
	registered(t, assetID(7), RegisterAsset{Kind: CloudResource, Name: "vm", Identifiers: Identifiers{CloudID: arn1}}, idx)
	registered(t, assetID(8), RegisterAsset{Kind: ContainerImage, Name: "app", Identifiers: Identifiers{ImageDigest: digest1, PURL: "pkg:oci/app@" + digest1}}, idx)
	registered(t, assetID(9), RegisterAsset{Kind: ContainerImage, Name: "nginx", Identifiers: Identifiers{ImageDigest: digest2, PURL: "pkg:docker/library/nginx@1.25"}}, idx)
	registered(t, assetID(10), RegisterAsset{Kind: ContainerImage, Name: "redis", Identifiers: Identifiers{PURL: "pkg:docker/library/redis@7?arch=amd64&os=linux"}}, idx)
	registered(t, assetID(11), RegisterAsset{Kind: Repository, Name: "repo", Identifiers: Identifiers{RepoURL: "https://github.com/org/repo"}}, idx)
	registered(t, assetID(12), RegisterAsset{Kind: WebApplication, Name: "site", Identifiers: Identifiers{BaseURL: "https://example.com"}}, idx)
	old := registered(t, assetID(13), RegisterAsset{Kind: Host, Name: "old", Identifiers: Identifiers{IPs: []string{"10.0.0.50"}, Hostnames: []string{"old.corp.example"}, MACs: []string{macRetired}}}, idx)
	replay(t, old, assetID(13), must(t)(old.Retire("decommissioned")), idx)
	host(14, Identifiers{IPs: []string{"169.254.7.7"}, MACs: []string{macLL}})
	registered(t, assetID(16), RegisterAsset{Kind: Repository, Name: "p", Identifiers: Identifiers{RepoURL: "https://gitlab.com/g/p"}}, idx)
	registered(t, assetID(17), RegisterAsset{Kind: Repository, Name: "p again", Identifiers: Identifiers{RepoURL: "git@gitlab.com:g/p.git"}}, idx)
	return idx
}

func TestMatchingRules(t *testing.T) {
	idx := fixture(t)
	h := func(a Sighting) Sighting { a.Kind = Host; return a }
	img := func(a Sighting) Sighting { a.Kind = ContainerImage; return a }
	cases := []struct {
		name      string
		in        Sighting
		want      int // asset number; 0: no match
		rule      MatchRule
		reasons   []string
		conflicts []int
	}{
		// Rule 1: cloud id, kind agreeing.
		{"1 cloud id", Sighting{Kind: CloudResource, CloudID: arn1}, 7, RuleCloudID, nil, nil},
		{"1 cloud id of a host matches the host, not the cloud resource", h(Sighting{CloudID: " " + arn1, IPs: []string{"10.0.0.99"}}), 6, RuleCloudID, nil, nil},
		{"1 cloud id beats a MAC (which is reported as a conflict)", h(Sighting{CloudID: arn1, MACs: []string{macA}}), 6, RuleCloudID, nil, []int{1}},
		// Rule 2: image digest.
		{"2 image digest, upper-case", img(Sighting{ImageDigest: strings.ToUpper(digest1)}), 8, RuleImageDigest, nil, nil},
		{"2 image digest beats a purl", img(Sighting{ImageDigest: digest1, PURL: "pkg:docker/library/redis@7?arch=amd64&os=linux"}), 8, RuleImageDigest, nil, nil},
		// Rule 3: repo URL, normalised.
		{"3 repo URL https with .git and slash", Sighting{Kind: Repository, RepoURL: "https://GitHub.com/org/repo.git/"}, 11, RuleRepoURL, nil, nil},
		{"3 repo URL scp-like", Sighting{Kind: Repository, RepoURL: "git@github.com:org/repo.git"}, 11, RuleRepoURL, nil, nil},
		{"3 repo URL held twice: the oldest wins", Sighting{Kind: Repository, RepoURL: "https://gitlab.com/g/p"}, 16, RuleRepoURL, nil, []int{17}},
		// Rule 4: base URL, normalised.
		{"4 base URL with scheme case and default port", Sighting{Kind: WebApplication, BaseURL: "HTTPS://Example.com:443/"}, 12, RuleBaseURL, nil, nil},
		{"4 base URL with a path, from a scanner", Sighting{Kind: WebApplication, BaseURL: "https://example.com/login?next=/"}, 12, RuleBaseURL, nil, nil},
		{"4 other port is another application", Sighting{Kind: WebApplication, BaseURL: "https://example.com:8443"}, 0, "", nil, nil},
		// Rule 5: MAC.
		{"5 MAC in dash form", h(Sighting{MACs: []string{"aa-bb-cc-00-00-01"}}), 1, RuleMAC, nil, nil},
		{"5 MAC beats another asset's IP", h(Sighting{MACs: []string{macA}, IPs: []string{"10.0.0.2"}}), 1, RuleMAC, nil, nil},
		{"5 MAC beats another asset's hostname", h(Sighting{MACs: []string{macB}, Hostnames: []string{"a.corp.example"}}), 2, RuleMAC, nil, nil},
		{"5 MACs of two assets: the oldest wins, the other is a conflict", h(Sighting{MACs: []string{macB, macA}}), 1, RuleMAC, nil, []int{2}},
		{"5 zero MAC is ignored", h(Sighting{MACs: []string{"00:00:00:00:00:00"}, IPs: []string{"10.0.0.3"}}), 3, RuleIP, nil, nil},
		{"5 broadcast MAC is ignored and vetoes nothing", h(Sighting{MACs: []string{"ff:ff:ff:ff:ff:ff"}, IPs: []string{"10.0.0.1"}}), 1, RuleIP, nil, nil},
		{"5 VRRP MAC is ignored and vetoes nothing", h(Sighting{MACs: []string{"00:00:5E:00:01:07"}, IPs: []string{"10.0.0.1"}}), 1, RuleIP, nil, nil},
		// Rule 6: purl.
		{"6 purl", img(Sighting{PURL: "pkg:docker/library/nginx@1.25"}), 9, RulePURL, nil, nil},
		{"6 purl with qualifiers in another order", img(Sighting{PURL: "PKG:docker/library/redis@7?os=linux&arch=amd64"}), 10, RulePURL, nil, nil},
		{"6 purl of an image without digest, incoming with one", img(Sighting{PURL: "pkg:docker/library/redis@7?arch=amd64&os=linux", ImageDigest: digest3}), 10, RulePURL, nil, nil},
		{"6 purl contradicted by another digest: the tag moved", img(Sighting{PURL: "pkg:docker/library/nginx@1.25", ImageDigest: digest3}), 0, "", []string{ReasonPURLContradictedByDigest}, nil},
		// Rule 7: hostname.
		{"7 hostname, any case, trailing dot", h(Sighting{Hostnames: []string{"A.CORP.EXAMPLE."}}), 1, RuleHostname, nil, nil},
		{"7 hostname with an unknown MAC still matches", h(Sighting{Hostnames: []string{"a.corp.example"}, MACs: []string{"AA:BB:CC:00:00:99"}}), 1, RuleHostname, nil, nil},
		{"7 hostname beats another asset's IP", h(Sighting{Hostnames: []string{"c.corp.example"}, IPs: []string{"10.0.0.1"}}), 3, RuleHostname, nil, nil},
		{"7 shared hostname is ambiguous", h(Sighting{Hostnames: []string{"shared.corp.example"}}), 0, "", []string{ReasonHostnameAmbiguous}, nil},
		{"7 ambiguous hostname falls through to the IP", h(Sighting{Hostnames: []string{"shared.corp.example"}, IPs: []string{"10.0.0.3"}}), 3, RuleIP, []string{ReasonHostnameAmbiguous}, nil},
		{"7 hostnames of two hosts are ambiguous", h(Sighting{Hostnames: []string{"a.corp.example", "c.corp.example"}}), 0, "", []string{ReasonHostnameAmbiguous}, nil},
		{"7 a short name is not the FQDN", h(Sighting{Hostnames: []string{"a"}}), 0, "", nil, nil},
		{"7 localhost is ignored", h(Sighting{Hostnames: []string{"localhost"}, IPs: []string{"10.0.0.3"}}), 3, RuleIP, nil, nil},
		// Rule 8: IP.
		{"8 IP", h(Sighting{IPs: []string{"10.0.0.3"}}), 3, RuleIP, nil, nil},
		{"8 IPv4-mapped IPv6", h(Sighting{IPs: []string{"::ffff:10.0.0.3"}}), 3, RuleIP, nil, nil},
		{"8 IP reused by DHCP: unknown MAC, the holder has another", h(Sighting{IPs: []string{"10.0.0.1"}, MACs: []string{"AA:BB:CC:00:00:99"}}), 0, "", []string{ReasonIPContradictedByMAC}, nil},
		{"8 retired asset's MAC on a live asset's IP: a new asset", h(Sighting{IPs: []string{"10.0.0.1"}, MACs: []string{macRetired}}), 0, "", []string{ReasonIPContradictedByMAC}, nil},
		{"8 unknown MAC on an IP whose holder has no MAC", h(Sighting{IPs: []string{"10.0.0.3"}, MACs: []string{"AA:BB:CC:00:00:33"}}), 3, RuleIP, nil, nil},
		{"8 IP held by two hosts is ambiguous", h(Sighting{IPs: []string{"10.0.0.9"}}), 0, "", []string{ReasonIPAmbiguous}, nil},
		{"8 IPs of two hosts are ambiguous", h(Sighting{IPs: []string{"10.0.0.1", "10.0.0.2"}}), 0, "", []string{ReasonIPAmbiguous}, nil},
		{"8 an ambiguous IP does not vote", h(Sighting{IPs: []string{"10.0.0.9", "10.0.0.3"}}), 3, RuleIP, nil, nil},
		{"8 IP contradicted by another cloud id", h(Sighting{IPs: []string{"10.0.0.6"}, CloudID: arn2}), 0, "", []string{ReasonIPContradictedByCloudID}, nil},
		{"8 loopback identifies nothing", h(Sighting{IPs: []string{"127.0.0.1"}}), 0, "", []string{ReasonNoUsableIdentifiers}, nil},
		{"8 link-local IPs never match", h(Sighting{IPs: []string{"169.254.7.7"}}), 0, "", nil, nil},
		// Retired assets never match.
		{"retired asset's MAC", h(Sighting{MACs: []string{macRetired}}), 0, "", nil, nil},
		{"retired asset's IP", h(Sighting{IPs: []string{"10.0.0.50"}}), 0, "", nil, nil},
		{"retired asset's hostname", h(Sighting{Hostnames: []string{"old.corp.example"}}), 0, "", nil, nil},
		// Kinds must agree.
		{"a host never matches an image by digest", h(Sighting{ImageDigest: digest1}), 0, "", []string{ReasonNoUsableIdentifiers}, nil},
		{"an image never matches a host by IP", img(Sighting{IPs: []string{"10.0.0.3"}, PURL: "pkg:oci/unknown"}), 0, "", nil, nil},
		{"a web application never matches a repository", Sighting{Kind: WebApplication, BaseURL: "https://github.com/org/repo"}, 0, "", nil, nil},
		{"unknown kind", Sighting{Kind: "printer", IPs: []string{"10.0.0.3"}}, 0, "", []string{ReasonUnknownKind}, nil},
		{"nothing known", h(Sighting{IPs: []string{"10.0.0.200"}, MACs: []string{"AA:BB:CC:00:00:77"}, Hostnames: []string{"new.corp.example"}}), 0, "", nil, nil},
	}
	for _, c := range cases {
		r := idx.Resolve(c.in)
		want := Resolution{Rule: c.rule, Reasons: c.reasons}
		if c.want != 0 {
			want.AssetID = assetID(c.want)
		}
		for _, n := range c.conflicts {
			want.Conflicts = append(want.Conflicts, assetID(n))
		}
		if !reflect.DeepEqual(r, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, r, want)
		}
		id, rule, ok := idx.Match(c.in)
		if id != want.AssetID || rule != string(c.rule) || ok != (c.want != 0) {
			t.Errorf("%s: Match = %q, %q, %v", c.name, id, rule, ok)
		}
	}
}

func TestPlan(t *testing.T) {
	idx := fixture(t)
	t.Run("match by MAC: new IP and hostname, placeholder dropped", func(t *testing.T) {
		p := idx.Plan(Sighting{Kind: Host, MACs: []string{"aa:bb:cc:00:00:01", "00:00:00:00:00:00"},
			IPs: []string{"10.0.0.1", "10.0.0.77"}, Hostnames: []string{"A2.corp.example"}})
		if p.AssetID != assetID(1) || p.Rule != RuleMAC || p.Problem != nil {
			t.Fatalf("%+v", p)
		}
		want := Identifiers{IPs: []string{"10.0.0.77"}, Hostnames: []string{"a2.corp.example"}}
		if !p.New.Equal(want) {
			t.Fatalf("new %+v, want %+v", p.New, want)
		}
		if len(p.Dropped) != 1 || p.Dropped[0].Field != "/macs/1" {
			t.Fatalf("dropped %+v", p.Dropped)
		}
	})
	t.Run("match by IP: the new MAC is recorded", func(t *testing.T) {
		p := idx.Plan(Sighting{Kind: Host, IPs: []string{"10.0.0.3"}, MACs: []string{"aa:bb:cc:00:00:33"}})
		if p.AssetID != assetID(3) || !p.New.Equal(Identifiers{MACs: []string{"AA:BB:CC:00:00:33"}}) {
			t.Fatalf("%+v", p)
		}
	})
	t.Run("another asset's MAC is not moved over", func(t *testing.T) {
		p := idx.Plan(Sighting{Kind: Host, CloudID: arn1, MACs: []string{macA}})
		if p.AssetID != assetID(6) || !p.New.IsEmpty() || !slices.Equal(p.Conflicts, []string{assetID(1)}) {
			t.Fatalf("%+v", p)
		}
		if len(p.Dropped) != 1 || p.Dropped[0].Field != "/macs" || !strings.Contains(p.Dropped[0].Reason, assetID(1)) {
			t.Fatalf("dropped %+v", p.Dropped)
		}
	})
	t.Run("nothing new", func(t *testing.T) {
		p := idx.Plan(Sighting{Kind: Host, IPs: []string{"10.0.0.1"}, MACs: []string{macA}, Hostnames: []string{"a.corp.example"}})
		if p.AssetID != assetID(1) || !p.New.IsEmpty() || len(p.Dropped) != 0 {
			t.Fatalf("%+v", p)
		}
	})
	t.Run("an image without digest gets one", func(t *testing.T) {
		p := idx.Plan(Sighting{Kind: ContainerImage, PURL: "pkg:docker/library/redis@7?arch=amd64&os=linux", ImageDigest: digest3})
		if p.AssetID != assetID(10) || !p.New.Equal(Identifiers{ImageDigest: digest3}) {
			t.Fatalf("%+v", p)
		}
	})
	t.Run("a different single-valued identifier is not proposed", func(t *testing.T) {
		p := idx.Plan(Sighting{Kind: ContainerImage, ImageDigest: digest1, PURL: "pkg:oci/app@" + digest1 + "?tag=2"})
		if p.AssetID != assetID(8) || !p.New.IsEmpty() || len(p.Dropped) != 1 || p.Dropped[0].Field != "/purl" {
			t.Fatalf("%+v", p)
		}
	})
	t.Run("no match: the asset to register", func(t *testing.T) {
		p := idx.Plan(Sighting{Kind: Host, IPs: []string{"10.0.0.200", "127.0.0.1"}, Hostnames: []string{"New.Corp.Example"}})
		if p.Matched() || p.Problem != nil || p.Name != "new.corp.example" ||
			!p.Identifiers.Equal(Identifiers{IPs: []string{"10.0.0.200"}, Hostnames: []string{"new.corp.example"}}) {
			t.Fatalf("%+v", p)
		}
		a := registered(t, assetID(30), RegisterAsset{Kind: p.Kind, Name: p.Name, Identifiers: p.Identifiers, ScanID: scanID1}, idx)
		if a.Name != "new.corp.example" {
			t.Fatal(a.Name)
		}
		if id, rule, ok := idx.Match(Sighting{Kind: Host, IPs: []string{"10.0.0.200"}}); !ok || id != assetID(30) || rule != "ip" {
			t.Fatalf("the registered asset does not match: %q %q", id, rule)
		}
	})
	t.Run("no match and not identifiable", func(t *testing.T) {
		for _, c := range []struct {
			in    Sighting
			field string
		}{
			{Sighting{Kind: Repository, Name: "src", PURL: "pkg:generic/src"}, "/identifiers/repo_url"},
			{Sighting{Kind: Host, IPs: []string{"127.0.0.1"}, Hostnames: []string{"localhost"}}, "/identifiers"},
			{Sighting{Kind: WebApplication, Name: "x", BaseURL: "not a url"}, "/identifiers/base_url"},
			{Sighting{Kind: "printer", Name: "x"}, "/kind"},
		} {
			p := idx.Plan(c.in)
			var re *RuleError
			if p.Matched() || !errors.As(p.Problem, &re) || re.Field() != c.field {
				t.Errorf("%+v: problem %v, want one at %s", c.in, p.Problem, c.field)
			}
		}
	})
	t.Run("observed identifiers reach the index", func(t *testing.T) {
		p := idx.Plan(Sighting{Kind: Host, MACs: []string{macB}, IPs: []string{"10.0.0.88"}})
		a := &Asset{}
		for _, e := range indexEvents(t, idx, assetID(2)) {
			if err := a.Apply(&e); err != nil {
				t.Fatal(err)
			}
		}
		replay(t, a, assetID(2), must(t)(a.ObserveIdentifiers(scanID1, p.New)), idx)
		if id, rule, ok := idx.Match(Sighting{Kind: Host, IPs: []string{"10.0.0.88"}}); !ok || id != assetID(2) || rule != "ip" {
			t.Fatalf("observed IP does not match: %q %q", id, rule)
		}
	})
}

// indexEvents rebuilds a registration event for an asset from what the index knows (tests only).
func indexEvents(t *testing.T, idx *Index, id string) []events.Envelope {
	kind, ids, _, ok := idx.Lookup(id)
	if !ok {
		t.Fatalf("%s unknown", id)
	}
	return envelopes(t, id, must(t)((&Asset{}).Register(RegisterAsset{Kind: kind, Name: "x", Identifiers: ids})))
}

func TestOneReportNeverRegistersTheSameAssetTwice(t *testing.T) {
	idx := NewIndex()
	report := []Sighting{
		{Kind: Host, IPs: []string{"10.1.0.1"}, MACs: []string{"AA:BB:CC:10:00:01"}},
		{Kind: Host, IPs: []string{"fd00::1"}, MACs: []string{"aa-bb-cc-10-00-01"}},
		{Kind: Host, IPs: []string{"10.1.0.2"}},
	}
	var ids []string
	for i, in := range report {
		p := idx.Plan(in)
		if p.Matched() {
			a := &Asset{}
			for _, e := range indexEvents(t, idx, p.AssetID) {
				_ = a.Apply(&e)
			}
			replay(t, a, p.AssetID, must(t)(a.ObserveIdentifiers(scanID1, p.New)), idx)
			ids = append(ids, p.AssetID)
			continue
		}
		id := assetID(100 + i)
		registered(t, id, RegisterAsset{Kind: p.Kind, Name: p.Name, Identifiers: p.Identifiers, ScanID: scanID1}, idx)
		ids = append(ids, id)
	}
	if ids[0] != ids[1] || ids[2] == ids[0] || idx.Len() != 2 {
		t.Fatalf("assets %v", ids)
	}
	if _, got, _, _ := idx.Lookup(ids[0]); !slices.Equal(got.IPs, []string{"10.1.0.1", "fd00::1"}) {
		t.Fatalf("identifiers %+v", got)
	}
}

func TestIndexFollowsTheAssetsEvents(t *testing.T) {
	idx := fixture(t)
	match := func(in Sighting) string { id, _, _ := idx.Match(in); return id }
	byIP := func(ip string) string { return match(Sighting{Kind: Host, IPs: []string{ip}}) }

	// An identifier update replaces the old identifiers.
	c := &Asset{}
	for _, e := range indexEvents(t, idx, assetID(3)) {
		_ = c.Apply(&e)
	}
	replay(t, c, assetID(3), must(t)(c.Update(UpdateAsset{Identifiers: &Identifiers{IPs: []string{"10.0.0.33"}}})), idx)
	if byIP("10.0.0.3") != "" || byIP("10.0.0.33") != assetID(3) {
		t.Fatal("the index kept the replaced IP")
	}
	// Retiring removes from matching; reactivating restores.
	replay(t, c, assetID(3), must(t)(c.Retire("gone")), idx)
	if byIP("10.0.0.33") != "" {
		t.Fatal("a retired asset matched")
	}
	if _, _, retired, _ := idx.Lookup(assetID(3)); !retired {
		t.Fatal("not marked retired")
	}
	replay(t, c, assetID(3), must(t)(c.Reactivate("back")), idx)
	if byIP("10.0.0.33") != assetID(3) {
		t.Fatal("a reactivated asset does not match")
	}
	// Events of other streams and types, and of unknown assets, change nothing.
	n := idx.Len()
	for _, e := range []events.Envelope{
		{StreamID: "vulns-finding-0190a000-0000-7000-8000-000000000001", Type: "FindingOpened", Data: []byte(`{}`)},
		{StreamID: assetID(3), Type: contracts.TypeAssetLinked, Data: []byte(`{"relation":"runs_on","target_asset_id":"` + assetID(1) + `"}`)},
		{StreamID: assetID(99), Type: contracts.TypeAssetIdentifiersObserved, Data: []byte(`{"scan_id":"s","identifiers":{"ips":["10.7.7.7"]}}`)},
		{StreamID: assetID(99), Type: contracts.TypeAssetRetired, Data: []byte(`{"reason":"x"}`)},
	} {
		if err := idx.Apply(&e); err != nil {
			t.Fatal(err)
		}
	}
	if idx.Len() != n || byIP("10.7.7.7") != "" {
		t.Fatal("the index learnt from an event it should ignore")
	}
	if err := idx.Apply(&events.Envelope{StreamID: assetID(3), Type: contracts.TypeAssetRegistered, Data: []byte(`{`)}); err == nil {
		t.Fatal("broken data accepted")
	}
	// Observe replaces what the index knows, normalising leniently.
	idx.Observe(assetID(40), Host, Identifiers{IPs: []string{"10.4.0.1", "bogus", "127.0.0.1"}, MACs: []string{"aa-bb-cc-40-00-01"}}, false)
	if byIP("10.4.0.1") != assetID(40) || match(Sighting{Kind: Host, MACs: []string{"AA:BB:CC:40:00:01"}}) != assetID(40) {
		t.Fatal("observed asset does not match")
	}
	idx.Observe(assetID(40), Host, Identifiers{IPs: []string{"10.4.0.2"}}, false)
	if byIP("10.4.0.1") != "" || byIP("10.4.0.2") != assetID(40) {
		t.Fatal("Observe did not replace")
	}
	idx.Observe(assetID(40), Host, Identifiers{IPs: []string{"10.4.0.2"}}, true)
	if byIP("10.4.0.2") != "" {
		t.Fatal("observed retired asset matched")
	}
}

func TestClaimed(t *testing.T) {
	idx := fixture(t)
	got := idx.Claimed(Host, Identifiers{MACs: []string{macA, "00:00:00:00:00:00", "AA:BB:CC:00:00:99"}, CloudID: arn1, IPs: []string{"10.0.0.2"}}, "")
	want := []Claim{{Field: "cloud_id", Value: arn1, AssetID: assetID(6)}, {Field: "macs", Value: macA, AssetID: assetID(1)}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("claimed %+v", got)
	}
	if got := idx.Claimed(Host, Identifiers{MACs: []string{macA}}, assetID(1)); len(got) != 0 {
		t.Fatalf("an asset's own identifiers are claimed: %+v", got)
	}
	if got := idx.Claimed(Host, Identifiers{MACs: []string{macRetired}}, ""); len(got) != 0 {
		t.Fatalf("a retired asset's identifiers are claimed: %+v", got)
	}
	if got := idx.Claimed(Repository, Identifiers{RepoURL: "https://gitlab.com/g/p"}, ""); len(got) != 2 {
		t.Fatalf("duplicate repository claims %+v", got)
	}
}

func TestFromDiscovery(t *testing.T) {
	d := FromDiscovery(Sighting{Kind: WebApplication, Name: "", BaseURL: "http://Shop.example.com:80/cart",
		IPs: []string{"10.0.0.5"}, Hostnames: []string{"shop.example.com"}})
	if d.Name != "http://shop.example.com" || d.Identifiers.BaseURL != "http://shop.example.com" || len(d.Identifiers.IPs) != 0 {
		t.Fatalf("%+v", d)
	}
	if len(d.Dropped) != 2 || d.Dropped[0].Field != "/ips/0" || d.Dropped[1].Field != "/hostnames/0" {
		t.Fatalf("dropped %+v", d.Dropped)
	}
	d = FromDiscovery(Sighting{Kind: ContainerImage, ImageName: "nginx:1.25\x00", ImageDigest: "sha256:short"})
	if d.Name != "nginx:1.25" || !d.Identifiers.IsEmpty() || len(d.Dropped) != 1 || d.Dropped[0].Field != "/image_digest" {
		t.Fatalf("%+v", d)
	}
	ips := make([]string, MaxIPs+2)
	for i := range ips {
		ips[i] = "10.2." + itoa(i/256) + "." + itoa(i%256)
	}
	d = FromDiscovery(Sighting{Kind: Host, Name: strings.Repeat("n", MaxNameLen+10), IPs: ips})
	if len(d.Identifiers.IPs) != MaxIPs || len(d.Dropped) != 2 || len([]rune(d.Name)) != MaxNameLen {
		t.Fatalf("bounds: %d IPs, %d dropped, name %d", len(d.Identifiers.IPs), len(d.Dropped), len(d.Name))
	}
}

func TestIndexIsSafeForConcurrentUse(t *testing.T) {
	idx := fixture(t)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				idx.Match(Sighting{Kind: Host, IPs: []string{"10.0.0.3"}, MACs: []string{macA}})
				idx.Plan(Sighting{Kind: Host, IPs: []string{"10.0.0.1", "10.0.0.200"}})
			}
		}()
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				idx.Observe(assetID(200+g), Host, Identifiers{IPs: []string{"10.3." + itoa(g) + "." + itoa(i%250)}}, i%2 == 0)
			}
		}(g)
	}
	wg.Wait()
}
