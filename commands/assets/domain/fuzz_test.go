package domain

import "testing"

// FuzzAcceptedIsSchemaValid: whatever a command accepts, the event it emits matches the schema
// (the domain's checks are never looser than the schema's). The seeds run with `go test`;
// `go test -fuzz FuzzAcceptedIsSchemaValid` explores further.
func FuzzAcceptedIsSchemaValid(f *testing.F) {
	f.Add(uint8(0), "web01", "10.0.0.1", "web01.example", "aa-bb-cc-dd-ee-ff", "https://GitHub.com/o/r.git", "HTTPS://x.example:443/", "arn:aws:s3:::b", "pci", "team")
	f.Add(uint8(1), "img", "::ffff:1.2.3.4", "A.", "aabb.ccdd.eeff", "git@h.example:o/r", "http://[::1]:80", "/subscriptions/X", "Tag:ü", " ")
	f.Add(uint8(2), " n\u00a0", "fe80::1%eth0", "xn--x", "AABBCCDDEEFF", "ssh://git@h:22/o/r/", "https://h.example/", "  id  ", "ǅ", "a\tb")
	f.Add(uint8(4), "x", "0.0.0.0", "-", "zz", "https://h/", "https://u@h", "\x00", "", "")
	f.Fuzz(func(t *testing.T, k uint8, name, ip, hostname, mac, repo, base, cloud, tag, owner string) {
		kind := Kinds[int(k)%len(Kinds)]
		var ids Identifiers
		switch kind {
		case Host:
			ids = Identifiers{IPs: []string{ip}, Hostnames: []string{hostname}, MACs: []string{mac}, CloudID: cloud}
		case ContainerImage:
			ids = Identifiers{ImageDigest: ip, PURL: "pkg:oci/" + hostname}
		case Repository:
			ids = Identifiers{RepoURL: repo}
		case WebApplication:
			ids = Identifiers{BaseURL: base}
		case CloudResource:
			ids = Identifiers{CloudID: cloud}
		}
		a := &Asset{}
		ch, err := a.Register(RegisterAsset{Kind: kind, Name: name, Description: owner, Identifiers: ids,
			Classification: Classification{OwnerTeam: owner, Tags: []string{tag}}})
		if err != nil {
			return
		}
		replay(t, a, assetID(1), ch)
		if ch, err := a.Classify(ClassifyAsset{OwnerTeam: &name, Tags: []string{tag, owner}}); err == nil {
			check(t, ch)
		}
		if ch, err := a.Update(UpdateAsset{Name: &owner, Description: &name}); err == nil {
			check(t, ch)
		}
	})
}
