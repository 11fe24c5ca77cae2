package domain

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

const (
	digest1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	digest2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	digest3 = "sha256:3333333333333333333333333333333333333333333333333333333333333333"
	arn1    = "arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc"
)

func aHost() RegisterAsset {
	return RegisterAsset{Kind: Host, Name: "web01", Identifiers: Identifiers{IPs: []string{"10.0.0.1"}, MACs: []string{"AA:BB:CC:00:00:01"}}}
}

// hostAsset is a registered host, id assetID(1).
func hostAsset(t *testing.T) *Asset { return registered(t, assetID(1), aHost()) }

func wantRule(t *testing.T, name string, err error, field string) {
	t.Helper()
	var re *RuleError
	if !errors.As(err, &re) || re.Field() != field || re.Kind() != problem.KindRejected {
		t.Errorf("%s: got %v, want a RuleError on %s", name, err, field)
	}
}

func TestRegisterNormalisesEachKind(t *testing.T) {
	cases := []struct {
		name string
		cmd  RegisterAsset
		want contracts.AssetRegistered
	}{
		{"host with messy identifiers", RegisterAsset{Kind: Host, Name: "  web01 ", Identifiers: Identifiers{
			IPs:       []string{"10.0.0.2", " ::ffff:10.0.0.1", "10.0.0.2", "2001:DB8::1"},
			Hostnames: []string{"Web01.Corp.Example.", "web01"},
			MACs:      []string{"aa-bb-cc-dd-ee-ff", "AA:BB:CC:DD:EE:FF", "0011.2233.4455"},
			CloudID:   arn1,
		}}, contracts.AssetRegistered{Kind: Host, Name: "web01", Identifiers: contracts.AssetIdentifiers{
			IPs:       []string{"10.0.0.1", "10.0.0.2", "2001:db8::1"},
			Hostnames: []string{"web01", "web01.corp.example"},
			MACs:      []string{"00:11:22:33:44:55", "AA:BB:CC:DD:EE:FF"},
			CloudID:   arn1,
		}}},
		{"container image by digest and purl", RegisterAsset{Kind: ContainerImage, Name: "registry.example.com/app:1.2",
			Identifiers: Identifiers{ImageDigest: strings.ToUpper(digest1), PURL: "PKG:OCI/app@" + digest1 + "?tag=1.2&arch=amd64"}},
			contracts.AssetRegistered{Kind: ContainerImage, Name: "registry.example.com/app:1.2",
				Identifiers: contracts.AssetIdentifiers{ImageDigest: digest1, PURL: "pkg:oci/app@" + digest1 + "?arch=amd64&tag=1.2"}}},
		{"container image by purl only", RegisterAsset{Kind: ContainerImage, Name: "redis",
			Identifiers: Identifiers{PURL: "pkg:docker/library/redis@7"}},
			contracts.AssetRegistered{Kind: ContainerImage, Name: "redis", Identifiers: contracts.AssetIdentifiers{PURL: "pkg:docker/library/redis@7"}}},
		{"repository", RegisterAsset{Kind: Repository, Name: "org/repo", Identifiers: Identifiers{RepoURL: "git@GitHub.com:Org/Repo.git"}},
			contracts.AssetRegistered{Kind: Repository, Name: "org/repo", Identifiers: contracts.AssetIdentifiers{RepoURL: "https://github.com/org/repo"}}},
		{"web application", RegisterAsset{Kind: WebApplication, Name: "shop", Description: " the shop ",
			Identifiers: Identifiers{BaseURL: "HTTPS://Shop.Example.com:443/"}},
			contracts.AssetRegistered{Kind: WebApplication, Name: "shop", Description: "the shop", Identifiers: contracts.AssetIdentifiers{BaseURL: "https://shop.example.com"}}},
		{"cloud resource, classified, from a scan", RegisterAsset{Kind: CloudResource, Name: "bucket",
			Identifiers: Identifiers{CloudID: " /SUBSCRIPTIONS/0000/resourceGroups/RG/providers/Microsoft.Storage/storageAccounts/Acct "},
			Classification: Classification{Criticality: CriticalityHigh, Environment: Production, OwnerTeam: " payments ",
				DataClassification: Confidential, Tags: []string{"PCI", " internet-facing", "pci"}},
			ScanID: "scans-scan-0190a000-0000-7000-8000-000000000009"},
			contracts.AssetRegistered{Kind: CloudResource, Name: "bucket",
				Identifiers: contracts.AssetIdentifiers{CloudID: "/subscriptions/0000/resourcegroups/rg/providers/microsoft.storage/storageaccounts/acct"},
				Criticality: CriticalityHigh, Environment: Production, OwnerTeam: "payments",
				DataClassification: Confidential, Tags: []string{"internet-facing", "pci"},
				ScanID: "scans-scan-0190a000-0000-7000-8000-000000000009"}},
	}
	for _, c := range cases {
		a := &Asset{}
		ch := must(t)(a.Register(c.cmd))
		if len(ch) != 1 || ch[0].Type != contracts.TypeAssetRegistered || !reflect.DeepEqual(ch[0].Data, c.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, ch, c.want)
			continue
		}
		replay(t, a, assetID(1), ch)
		if !a.Exists() || a.Status != StatusActive || a.ID != assetID(1) || a.Kind != c.cmd.Kind ||
			!a.Identifiers.Equal(Identifiers(c.want.Identifiers)) || !reflect.DeepEqual(a.Classification, Classification{Criticality: c.want.Criticality,
			Environment: c.want.Environment, OwnerTeam: c.want.OwnerTeam, DataClassification: c.want.DataClassification, Tags: c.want.Tags}) {
			t.Errorf("%s: state after replay %+v", c.name, a)
		}
	}
}

func TestRegisterRulesNameTheField(t *testing.T) {
	host := func(ids Identifiers) RegisterAsset { return RegisterAsset{Kind: Host, Name: "h", Identifiers: ids} }
	ip := Identifiers{IPs: []string{"10.0.0.1"}}
	withIP := func(f func(*RegisterAsset)) RegisterAsset { c := host(ip); f(&c); return c }
	many := func(n int, f func(i int) string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	cases := []struct {
		name  string
		cmd   RegisterAsset
		field string
	}{
		{"no kind", RegisterAsset{Name: "h", Identifiers: ip}, "/kind"},
		{"unknown kind", RegisterAsset{Kind: "printer", Name: "h", Identifiers: ip}, "/kind"},
		{"no name", RegisterAsset{Kind: Host, Identifiers: ip}, "/name"},
		{"blank name", withIP(func(c *RegisterAsset) { c.Name = "  " }), "/name"},
		{"long name", withIP(func(c *RegisterAsset) { c.Name = strings.Repeat("n", MaxNameLen+1) }), "/name"},
		{"control character in name", withIP(func(c *RegisterAsset) { c.Name = "a\x00b" }), "/name"},
		{"newline in name", withIP(func(c *RegisterAsset) { c.Name = "a\nb" }), "/name"},
		{"long description", withIP(func(c *RegisterAsset) { c.Description = strings.Repeat("d", MaxDescriptionLen+1) }), "/description"},
		{"host without identifiers", host(Identifiers{}), "/identifiers"},
		{"host with an invalid third IP", host(Identifiers{IPs: []string{"10.0.0.1", "10.0.0.2", "10.0.0.300"}}), "/identifiers/ips/2"},
		{"host with a prefix for an IP", host(Identifiers{IPs: []string{"10.0.0.0/8"}}), "/identifiers/ips/0"},
		{"host with an invalid MAC", host(Identifiers{MACs: []string{"aa:bb:cc:dd:ee"}}), "/identifiers/macs/0"},
		{"host with a mixed-separator MAC", host(Identifiers{MACs: []string{"AA:BB:CC:DD:EE:FF", "aa:bb-cc:dd:ee:ff"}}), "/identifiers/macs/1"},
		{"host with a hyphen-led label", host(Identifiers{Hostnames: []string{"-web.example.com"}}), "/identifiers/hostnames/0"},
		{"host with an underscore", host(Identifiers{Hostnames: []string{"my_host"}}), "/identifiers/hostnames/0"},
		{"host with an IP as hostname", host(Identifiers{Hostnames: []string{"10.0.0.1"}}), "/identifiers/hostnames/0"},
		{"host with an image digest", host(Identifiers{IPs: []string{"10.0.0.1"}, ImageDigest: digest1}), "/identifiers/image_digest"},
		{"host with only a cloud id", host(Identifiers{CloudID: arn1}), "/identifiers"},
		{"too many IPs", host(Identifiers{IPs: many(MaxIPs+1, func(i int) string { return "10.1." + itoa(i/256) + "." + itoa(i%256) })}), "/identifiers/ips"},
		{"image without digest or purl", RegisterAsset{Kind: ContainerImage, Name: "i"}, "/identifiers"},
		{"short digest", RegisterAsset{Kind: ContainerImage, Name: "i", Identifiers: Identifiers{ImageDigest: "sha256:abc"}}, "/identifiers/image_digest"},
		{"sha512 digest", RegisterAsset{Kind: ContainerImage, Name: "i", Identifiers: Identifiers{ImageDigest: "sha512:" + strings.Repeat("a", 128)}}, "/identifiers/image_digest"},
		{"npm purl for an image", RegisterAsset{Kind: ContainerImage, Name: "i", Identifiers: Identifiers{PURL: "pkg:npm/left-pad@1.0.0"}}, "/identifiers/purl"},
		{"repository without URL", RegisterAsset{Kind: Repository, Name: "r"}, "/identifiers/repo_url"},
		{"repository on ftp", RegisterAsset{Kind: Repository, Name: "r", Identifiers: Identifiers{RepoURL: "ftp://example.com/r"}}, "/identifiers/repo_url"},
		{"repository without path", RegisterAsset{Kind: Repository, Name: "r", Identifiers: Identifiers{RepoURL: "https://github.com/"}}, "/identifiers/repo_url"},
		{"web app without base URL", RegisterAsset{Kind: WebApplication, Name: "w"}, "/identifiers/base_url"},
		{"web app with a path", RegisterAsset{Kind: WebApplication, Name: "w", Identifiers: Identifiers{BaseURL: "https://example.com/app"}}, "/identifiers/base_url"},
		{"web app with a query", RegisterAsset{Kind: WebApplication, Name: "w", Identifiers: Identifiers{BaseURL: "https://example.com/?a=1"}}, "/identifiers/base_url"},
		{"web app with credentials", RegisterAsset{Kind: WebApplication, Name: "w", Identifiers: Identifiers{BaseURL: "https://u:p@example.com"}}, "/identifiers/base_url"},
		{"web app on ftp", RegisterAsset{Kind: WebApplication, Name: "w", Identifiers: Identifiers{BaseURL: "ftp://example.com"}}, "/identifiers/base_url"},
		{"web app with a repo URL", RegisterAsset{Kind: WebApplication, Name: "w", Identifiers: Identifiers{BaseURL: "https://example.com", RepoURL: "https://github.com/o/r"}}, "/identifiers/repo_url"},
		{"cloud resource without id", RegisterAsset{Kind: CloudResource, Name: "c"}, "/identifiers/cloud_id"},
		{"cloud id with a control character", RegisterAsset{Kind: CloudResource, Name: "c", Identifiers: Identifiers{CloudID: "arn:aws:s3:::a\x01b"}}, "/identifiers/cloud_id"},
		{"cloud id too long", RegisterAsset{Kind: CloudResource, Name: "c", Identifiers: Identifiers{CloudID: strings.Repeat("x", MaxCloudIDLen+1)}}, "/identifiers/cloud_id"},
		{"unknown criticality", withIP(func(c *RegisterAsset) { c.Criticality = "urgent" }), "/criticality"},
		{"unknown environment", withIP(func(c *RegisterAsset) { c.Environment = "prod" }), "/environment"},
		{"unknown data classification", withIP(func(c *RegisterAsset) { c.DataClassification = "secret" }), "/data_classification"},
		{"long owner team", withIP(func(c *RegisterAsset) { c.OwnerTeam = strings.Repeat("o", MaxOwnerTeamLen+1) }), "/owner_team"},
		{"tag with a space", withIP(func(c *RegisterAsset) { c.Tags = []string{"ok", "not ok"} }), "/tags/1"},
		{"empty tag", withIP(func(c *RegisterAsset) { c.Tags = []string{" "} }), "/tags/0"},
		{"long tag", withIP(func(c *RegisterAsset) { c.Tags = []string{strings.Repeat("t", MaxTagLen+1)} }), "/tags/0"},
		{"too many tags", withIP(func(c *RegisterAsset) { c.Tags = many(MaxTags+1, func(i int) string { return "t" + itoa(i) }) }), "/tags"},
		{"scan id with a space", withIP(func(c *RegisterAsset) { c.ScanID = "scan 1" }), "/scan_id"},
	}
	for _, c := range cases {
		a := &Asset{}
		ch, err := a.Register(c.cmd)
		if len(ch) != 0 {
			t.Errorf("%s: a refused command returned changes", c.name)
		}
		wantRule(t, c.name, err, c.field)
	}
}

func TestTagsAtTheBoundAreAccepted(t *testing.T) {
	tags := make([]string, 0, MaxTags+1)
	for i := 0; i < MaxTags; i++ {
		tags = append(tags, strings.Repeat("t", MaxTagLen-3)+itoa(100+i))
	}
	tags = append(tags, strings.ToUpper(tags[0])) // a duplicate after lower-casing: still 64 distinct
	cmd := aHost()
	cmd.Tags = tags
	ch := must(t)((&Asset{}).Register(cmd))
	if got := ch[0].Data.(contracts.AssetRegistered).Tags; len(got) != MaxTags {
		t.Fatalf("%d tags", len(got))
	}
}

func TestRegisterTwiceIsAConflict(t *testing.T) {
	a := hostAsset(t)
	ch, err := a.Register(aHost())
	var te *TransitionError
	if !errors.As(err, &te) || te.Kind() != problem.KindConflict || len(ch) != 0 {
		t.Fatalf("registered twice: %v", err)
	}
}

func TestUpdate(t *testing.T) {
	sameIDs := Identifiers{IPs: []string{" 10.0.0.1 "}, MACs: []string{"aa-bb-cc-00-00-01"}}
	newIDs := Identifiers{IPs: []string{"10.0.0.7"}, Hostnames: []string{"Web01.Example.com"}}
	cases := []struct {
		name string
		cmd  UpdateAsset
		want *contracts.AssetUpdated // nil: no change
	}{
		{"nothing", UpdateAsset{}, nil},
		{"same name", UpdateAsset{Name: ptr(" web01 ")}, nil},
		{"same identifiers, other spelling", UpdateAsset{Identifiers: &sameIDs}, nil},
		{"no description stays none", UpdateAsset{Description: ptr("  ")}, nil},
		{"new name", UpdateAsset{Name: ptr("web01-new"), Identifiers: &sameIDs}, &contracts.AssetUpdated{Name: ptr("web01-new")}},
		{"description", UpdateAsset{Description: ptr("front door\nsecond line")}, &contracts.AssetUpdated{Description: ptr("front door\nsecond line")}},
		{"identifiers are replaced in full", UpdateAsset{Identifiers: &newIDs},
			&contracts.AssetUpdated{Identifiers: &contracts.AssetIdentifiers{IPs: []string{"10.0.0.7"}, Hostnames: []string{"web01.example.com"}}}},
	}
	for _, c := range cases {
		a := hostAsset(t)
		ch := must(t)(a.Update(c.cmd))
		changeIs(t, c.name, ch, contracts.TypeAssetUpdated, c.want)
		replay(t, a, assetID(1), ch)
		if c.cmd.Identifiers == &newIDs && !reflect.DeepEqual(a.Identifiers.IPs, []string{"10.0.0.7"}) {
			t.Errorf("%s: identifiers after replay %+v", c.name, a.Identifiers)
		}
	}
	// Clearing a description records an empty one.
	a := hostAsset(t)
	replay(t, a, assetID(1), must(t)(a.Update(UpdateAsset{Description: ptr("x")})))
	ch := must(t)(a.Update(UpdateAsset{Description: ptr("")}))
	if len(ch) != 1 || *ch[0].Data.(contracts.AssetUpdated).Description != "" {
		t.Fatalf("clearing the description: %+v", ch)
	}
	replay(t, a, assetID(1), ch)
	if a.Description != "" {
		t.Fatal("description not cleared")
	}

	errs := []struct {
		name  string
		cmd   UpdateAsset
		field string
	}{
		{"empty name", UpdateAsset{Name: ptr("")}, "/name"},
		{"long description", UpdateAsset{Description: ptr(strings.Repeat("d", MaxDescriptionLen+1))}, "/description"},
		{"invalid IP", UpdateAsset{Identifiers: &Identifiers{IPs: []string{"nope"}}}, "/identifiers/ips/0"},
		{"no identifiers left", UpdateAsset{Identifiers: &Identifiers{}}, "/identifiers"},
		{"identifier of another kind", UpdateAsset{Identifiers: &Identifiers{IPs: []string{"10.0.0.1"}, RepoURL: "https://github.com/o/r"}}, "/identifiers/repo_url"},
	}
	for _, c := range errs {
		wantRule(t, c.name, second(hostAsset(t).Update(c.cmd)), c.field)
	}
}

func TestClassify(t *testing.T) {
	base := func(t *testing.T) *Asset {
		a := hostAsset(t)
		replay(t, a, assetID(1), must(t)(a.Classify(ClassifyAsset{Criticality: CriticalityHigh, Environment: Staging,
			OwnerTeam: ptr("platform"), DataClassification: Internal, Tags: []string{"Linux", "dmz"}})))
		return a
	}
	cases := []struct {
		name string
		cmd  ClassifyAsset
		want *contracts.AssetClassified
	}{
		{"nothing", ClassifyAsset{}, nil},
		{"same values", ClassifyAsset{Criticality: CriticalityHigh, Environment: Staging, OwnerTeam: ptr(" platform "),
			DataClassification: Internal, Tags: []string{"DMZ", "linux", "linux"}}, nil},
		{"criticality only", ClassifyAsset{Criticality: CriticalityCritical, Environment: Staging}, &contracts.AssetClassified{Criticality: ptr(CriticalityCritical)}},
		{"environment", ClassifyAsset{Environment: Production}, &contracts.AssetClassified{Environment: ptr(Production)}},
		{"data classification", ClassifyAsset{DataClassification: Restricted}, &contracts.AssetClassified{DataClassification: ptr(Restricted)}},
		{"owner", ClassifyAsset{OwnerTeam: ptr("payments")}, &contracts.AssetClassified{OwnerTeam: ptr("payments")}},
		{"clear owner", ClassifyAsset{OwnerTeam: ptr("")}, &contracts.AssetClassified{OwnerTeam: ptr("")}},
		{"tags normalised", ClassifyAsset{Tags: []string{" PCI", "pci", "Internet-Facing", "team:payments"}},
			&contracts.AssetClassified{Tags: &[]string{"internet-facing", "pci", "team:payments"}}},
		{"clear tags", ClassifyAsset{Tags: []string{}}, &contracts.AssetClassified{Tags: &[]string{}}},
	}
	for _, c := range cases {
		a := base(t)
		ch := must(t)(a.Classify(c.cmd))
		if !changeIs(t, c.name, ch, contracts.TypeAssetClassified, c.want) {
			continue
		}
		replay(t, a, assetID(1), ch)
		if c.want == nil {
			continue
		}
		if c.want.Tags != nil && !reflect.DeepEqual(a.Tags, nilIfEmpty(*c.want.Tags)) {
			t.Errorf("%s: tags after replay %v", c.name, a.Tags)
		}
		if c.want.OwnerTeam != nil && a.OwnerTeam != *c.want.OwnerTeam {
			t.Errorf("%s: owner after replay %q", c.name, a.OwnerTeam)
		}
		if c.want.Criticality != nil && a.Criticality != *c.want.Criticality {
			t.Errorf("%s: criticality after replay %q", c.name, a.Criticality)
		}
	}
	errs := []struct {
		name  string
		cmd   ClassifyAsset
		field string
	}{
		{"criticality", ClassifyAsset{Criticality: "urgent"}, "/criticality"},
		{"environment", ClassifyAsset{Environment: "qa"}, "/environment"},
		{"data classification", ClassifyAsset{DataClassification: "top-secret"}, "/data_classification"},
		{"owner", ClassifyAsset{OwnerTeam: ptr("a\tb")}, "/owner_team"},
		{"tag", ClassifyAsset{Tags: []string{"fine", "fine", "bad!"}}, "/tags/2"},
	}
	for _, c := range errs {
		wantRule(t, c.name, second(base(t).Classify(c.cmd)), c.field)
	}
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func TestLinks(t *testing.T) {
	a := hostAsset(t)
	other, third := assetID(2), assetID(3)
	ch := must(t)(a.Link(RunsOn, other))
	if len(ch) != 1 || ch[0].Type != contracts.TypeAssetLinked || ch[0].Data != (Link{Relation: RunsOn, TargetAssetID: other}) {
		t.Fatalf("link: %+v", ch)
	}
	replay(t, a, assetID(1), ch)
	replay(t, a, assetID(1), must(t)(a.Link(DependsOn, other))) // another relation to the same asset
	replay(t, a, assetID(1), must(t)(a.Link(Contains, third)))
	if got := a.Links(); !reflect.DeepEqual(got, []Link{{Relation: Contains, TargetAssetID: third}, {Relation: DependsOn, TargetAssetID: other}, {Relation: RunsOn, TargetAssetID: other}}) {
		t.Fatalf("links %+v", got)
	}
	errs := []struct {
		name  string
		err   error
		field string
	}{
		{"duplicate link", second(a.Link(RunsOn, other)), "/target_asset_id"},
		{"self link", second(a.Link(DependsOn, assetID(1))), "/target_asset_id"},
		{"unknown relation", second(a.Link("owns", other)), "/relation"},
		{"not an asset id", second(a.Link(RunsOn, "vulns-finding-0190a000-0000-7000-8000-000000000001")), "/target_asset_id"},
		{"garbage target", second(a.Link(RunsOn, "web01")), "/target_asset_id"},
		{"unlink a missing link", second(a.Unlink(Exposes, other)), "/target_asset_id"},
		{"unlink with an unknown relation", second(a.Unlink("owns", other)), "/relation"},
	}
	for _, c := range errs {
		wantRule(t, c.name, c.err, c.field)
	}
	ch = must(t)(a.Unlink(RunsOn, other))
	if len(ch) != 1 || ch[0].Type != contracts.TypeAssetUnlinked || ch[0].Data != (Link{Relation: RunsOn, TargetAssetID: other}) {
		t.Fatalf("unlink: %+v", ch)
	}
	replay(t, a, assetID(1), ch)
	if a.HasLink(RunsOn, other) || !a.HasLink(DependsOn, other) {
		t.Fatalf("links after unlink %+v", a.Links())
	}
	wantRule(t, "unlink twice", second(a.Unlink(RunsOn, other)), "/target_asset_id")
}

func TestObserveIdentifiers(t *testing.T) {
	scan := "scans-scan-0190a000-0000-7000-8000-000000000005"
	a := hostAsset(t)
	ch := must(t)(a.ObserveIdentifiers(scan, Identifiers{IPs: []string{"10.0.0.1", "10.0.0.8"}, MACs: []string{"aa:bb:cc:00:00:01"}, Hostnames: []string{"Web01.Example.com"}}))
	want := contracts.AssetIdentifiersObserved{ScanID: scan, Identifiers: contracts.AssetIdentifiers{IPs: []string{"10.0.0.8"}, Hostnames: []string{"web01.example.com"}}}
	if len(ch) != 1 || ch[0].Type != contracts.TypeAssetIdentifiersObserved || !reflect.DeepEqual(ch[0].Data, want) {
		t.Fatalf("got %+v, want %+v", ch, want)
	}
	replay(t, a, assetID(1), ch)
	if !reflect.DeepEqual(a.Identifiers.IPs, []string{"10.0.0.1", "10.0.0.8"}) || len(a.Identifiers.MACs) != 1 {
		t.Fatalf("identifiers after replay %+v", a.Identifiers)
	}
	if ch := must(t)(a.ObserveIdentifiers(scan, Identifiers{IPs: []string{"10.0.0.8"}})); len(ch) != 0 {
		t.Fatalf("nothing new, yet %+v", ch)
	}
	// A cloud id fills an empty one; a different one is refused.
	replay(t, a, assetID(1), must(t)(a.ObserveIdentifiers(scan, Identifiers{CloudID: arn1})))
	if a.Identifiers.CloudID != arn1 {
		t.Fatal("cloud id not recorded")
	}
	full := make([]string, 0, MaxIPs)
	for i := 0; len(full) < MaxIPs-1; i++ {
		full = append(full, "10.9."+itoa(i/256)+"."+itoa(i%256))
	}
	errs := []struct {
		name  string
		scan  string
		ids   Identifiers
		field string
	}{
		{"no scan id", "", Identifiers{IPs: []string{"10.0.0.9"}}, "/scan_id"},
		{"no identifiers", scan, Identifiers{}, "/identifiers"},
		{"invalid MAC", scan, Identifiers{MACs: []string{"zz:bb:cc:00:00:01"}}, "/identifiers/macs/0"},
		{"identifier of another kind", scan, Identifiers{ImageDigest: digest1}, "/identifiers/image_digest"},
		{"a different cloud id", scan, Identifiers{CloudID: arn1 + "x"}, "/identifiers/cloud_id"},
		{"beyond the bound", scan, Identifiers{IPs: full}, "/identifiers/ips"},
	}
	for _, c := range errs {
		wantRule(t, c.name, second(a.ObserveIdentifiers(c.scan, c.ids)), c.field)
	}
}

func TestRetiredAssetRefusesEverythingButReactivate(t *testing.T) {
	a := hostAsset(t)
	wantRule(t, "retire without reason", second(a.Retire(" ")), "/reason")
	wantRule(t, "retire with a long reason", second(a.Retire(strings.Repeat("r", MaxReasonLen+1))), "/reason")
	ch := must(t)(a.Retire("decommissioned"))
	if len(ch) != 1 || ch[0].Data != (contracts.AssetRetired{Reason: "decommissioned"}) {
		t.Fatalf("retire: %+v", ch)
	}
	replay(t, a, assetID(1), ch)
	if a.Status != StatusRetired || a.RetiredReason != "decommissioned" {
		t.Fatalf("state %+v", a)
	}
	commands := map[string]func() ([]es.Change, error){
		"update":              func() ([]es.Change, error) { return a.Update(UpdateAsset{Name: ptr("x")}) },
		"update (no-op)":      func() ([]es.Change, error) { return a.Update(UpdateAsset{}) },
		"classify":            func() ([]es.Change, error) { return a.Classify(ClassifyAsset{Criticality: CriticalityLow}) },
		"link":                func() ([]es.Change, error) { return a.Link(RunsOn, assetID(2)) },
		"unlink":              func() ([]es.Change, error) { return a.Unlink(RunsOn, assetID(2)) },
		"observe identifiers": func() ([]es.Change, error) { return a.ObserveIdentifiers("s1", Identifiers{IPs: []string{"10.0.0.2"}}) },
		"retire":              func() ([]es.Change, error) { return a.Retire("again") },
		"register":            func() ([]es.Change, error) { return a.Register(aHost()) },
	}
	for name, cmd := range commands {
		ch, err := cmd()
		var te *TransitionError
		if !errors.As(err, &te) || te.Kind() != problem.KindConflict || te.From != StatusRetired || te.Field() != "/status" || len(ch) != 0 {
			t.Errorf("%s on a retired asset: got %v, want a TransitionError", name, err)
		}
	}
	wantRule(t, "reactivate without reason", second(a.Reactivate("")), "/reason")
	ch = must(t)(a.Reactivate("back in service"))
	if len(ch) != 1 || ch[0].Type != contracts.TypeAssetReactivated {
		t.Fatalf("reactivate: %+v", ch)
	}
	replay(t, a, assetID(1), ch)
	if a.Status != StatusActive || a.RetiredReason != "" {
		t.Fatalf("state %+v", a)
	}
	var te *TransitionError
	if err := second(a.Reactivate("again")); !errors.As(err, &te) || te.Kind() != problem.KindConflict {
		t.Fatalf("reactivating an active asset: %v", err)
	}
	must(t)(a.Update(UpdateAsset{Name: ptr("usable again")}))
}

func TestCommandsOnAnUnregisteredAsset(t *testing.T) {
	a := &Asset{}
	for name, err := range map[string]error{
		"update":     second(a.Update(UpdateAsset{Name: ptr("x")})),
		"classify":   second(a.Classify(ClassifyAsset{})),
		"link":       second(a.Link(RunsOn, assetID(2))),
		"unlink":     second(a.Unlink(RunsOn, assetID(2))),
		"observe":    second(a.ObserveIdentifiers("s", Identifiers{IPs: []string{"10.0.0.1"}})),
		"retire":     second(a.Retire("x")),
		"reactivate": second(a.Reactivate("x")),
	} {
		var nf *NotFoundError
		if !errors.As(err, &nf) || nf.Kind() != problem.KindNotFound || nf.Field() != "/asset_id" {
			t.Errorf("%s on an unregistered asset: %v", name, err)
		}
	}
}

func TestApplyIgnoresUnknownEventTypes(t *testing.T) {
	a := hostAsset(t)
	if err := a.Apply(&events.Envelope{StreamID: assetID(1), Type: "AssetTeleported", Data: []byte(`{"x":1}`)}); err != nil {
		t.Fatal(err)
	}
	if err := a.Apply(&events.Envelope{StreamID: assetID(1), Type: contracts.TypeAssetUpdated, Data: []byte(`{"name":`)}); err == nil {
		t.Fatal("broken data applied")
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// changeIs checks what a change-set command (Update, Classify) returned: nothing when want is nil
// (the command changes nothing), else exactly one event of type typ carrying *want.
func changeIs[T any](t *testing.T, name string, ch []es.Change, typ string, want *T) bool {
	t.Helper()
	switch {
	case want == nil && len(ch) != 0:
		t.Errorf("%s: a no-op returned %+v", name, ch)
		return false
	case want != nil && (len(ch) != 1 || ch[0].Type != typ || !reflect.DeepEqual(ch[0].Data, *want)):
		t.Errorf("%s: got %+v, want %+v", name, ch, *want)
		return false
	}
	return true
}
