package domain

import (
	"strings"
	"testing"
)

func TestNormalisation(t *testing.T) {
	type norm func(string) (string, error)
	cases := []struct {
		what string
		f    norm
		in   string
		want string // "" means the input is refused
	}{
		{"mac", NormalizeMAC, "aa-bb-cc-dd-ee-ff", "AA:BB:CC:DD:EE:FF"},
		{"mac", NormalizeMAC, "AA:BB:CC:DD:EE:FF", "AA:BB:CC:DD:EE:FF"},
		{"mac", NormalizeMAC, "aa:bb:cc:dd:ee:ff", "AA:BB:CC:DD:EE:FF"},
		{"mac", NormalizeMAC, "aabb.ccdd.eeff", "AA:BB:CC:DD:EE:FF"},
		{"mac", NormalizeMAC, " aabbccddeeff ", "AA:BB:CC:DD:EE:FF"},
		{"mac", NormalizeMAC, "aa:bb:cc:dd:ee", ""},
		{"mac", NormalizeMAC, "aa:bb-cc:dd:ee:ff", ""},
		{"mac", NormalizeMAC, "gg:bb:cc:dd:ee:ff", ""},
		{"mac", NormalizeMAC, "aa:bb:cc:dd:ee:ff:00:11", ""},
		{"mac", NormalizeMAC, "", ""},

		{"ip", NormalizeIP, "10.0.0.1", "10.0.0.1"},
		{"ip", NormalizeIP, " ::ffff:10.0.0.1 ", "10.0.0.1"},
		{"ip", NormalizeIP, "2001:DB8:0:0::1", "2001:db8::1"},
		{"ip", NormalizeIP, "fe80::1%eth0", "fe80::1"},
		{"ip", NormalizeIP, "10.0.0.0/8", ""},
		{"ip", NormalizeIP, "010.0.0.1", ""},
		{"ip", NormalizeIP, "web01", ""},

		{"hostname", NormalizeHostname, "Web01.Corp.Example.COM.", "web01.corp.example.com"},
		{"hostname", NormalizeHostname, "xn--bcher-kva.example", "xn--bcher-kva.example"},
		{"hostname", NormalizeHostname, "web-01", "web-01"},
		{"hostname", NormalizeHostname, "-web.example", ""},
		{"hostname", NormalizeHostname, "web-.example", ""},
		{"hostname", NormalizeHostname, "a..b", ""},
		{"hostname", NormalizeHostname, "my_host", ""},
		{"hostname", NormalizeHostname, "bücher.example", ""},
		{"hostname", NormalizeHostname, "10.0.0.1", ""},
		{"hostname", NormalizeHostname, strings.Repeat("a", 64) + ".example", ""},
		{"hostname", NormalizeHostname, strings.Repeat("abcdefghi.", 26), ""},
		{"hostname", NormalizeHostname, ".", ""},

		{"digest", NormalizeImageDigest, " SHA256:" + strings.ToUpper(digest1[7:]), digest1},
		{"digest", NormalizeImageDigest, "sha256:" + digest1[8:], ""},
		{"digest", NormalizeImageDigest, digest1[7:], ""},
		{"digest", NormalizeImageDigest, "sha256:" + strings.Repeat("g", 64), ""},

		{"purl", NormalizePURL, "PKG:OCI/app@sha256:abc?tag=1&arch=amd64", "pkg:oci/app@sha256:abc?arch=amd64&tag=1"},
		{"purl", NormalizePURL, "pkg:docker/library/nginx@1.25", "pkg:docker/library/nginx@1.25"},
		{"purl", NormalizePURL, "pkg:Docker/library/nginx@1.25#sub", "pkg:docker/library/nginx@1.25#sub"},
		{"purl", NormalizePURL, "pkg:npm/left-pad@1.0.0", ""},
		{"purl", NormalizePURL, "pkg:docker/", ""},
		{"purl", NormalizePURL, "pkg:docker/@1.0", ""},
		{"purl", NormalizePURL, "nginx:1.25", ""},
		{"purl", NormalizePURL, "pkg:oci/a b", ""},

		{"repo", NormalizeRepoURL, "https://GitHub.com/org/repo.git/", "https://github.com/org/repo"},
		{"repo", NormalizeRepoURL, "https://github.com/org/repo", "https://github.com/org/repo"},
		{"repo", NormalizeRepoURL, "git@github.com:Org/Repo.git", "https://github.com/org/repo"},
		{"repo", NormalizeRepoURL, "ssh://git@github.com/org/repo.git", "https://github.com/org/repo"},
		{"repo", NormalizeRepoURL, "ssh://git@Git.Example.com:2222/Group/Sub/Repo.git", "https://git.example.com/Group/Sub/Repo"},
		{"repo", NormalizeRepoURL, "http://git.example.com/Team/Repo/", "https://git.example.com/Team/Repo"},
		{"repo", NormalizeRepoURL, "git://git.example.com/x.git", "https://git.example.com/x"},
		{"repo", NormalizeRepoURL, "git+ssh://git@host.example/x/y", "https://host.example/x/y"},
		{"repo", NormalizeRepoURL, "https://user:token@dev.azure.com/org/project/_git/repo?path=/&version=GBmain#frag",
			"https://dev.azure.com/org/project/_git/repo"},
		{"repo", NormalizeRepoURL, "https://10.0.0.5:8443/org/repo", "https://10.0.0.5/org/repo"},
		{"repo", NormalizeRepoURL, "ftp://example.com/repo", ""},
		{"repo", NormalizeRepoURL, "https://github.com/", ""},
		{"repo", NormalizeRepoURL, "https://github.com/.git", ""},
		{"repo", NormalizeRepoURL, "not a url", ""},
		{"repo", NormalizeRepoURL, "./src", ""},
		{"repo", NormalizeRepoURL, `C:\src\repo`, ""},
		{"repo", NormalizeRepoURL, "https://bad_host/x", ""},

		{"base url", NormalizeBaseURL, "HTTPS://Example.com:443/", "https://example.com"},
		{"base url", NormalizeBaseURL, "http://example.com:80", "http://example.com"},
		{"base url", NormalizeBaseURL, "http://Example.com:443", "http://example.com:443"},
		{"base url", NormalizeBaseURL, "https://example.com:8443/", "https://example.com:8443"},
		{"base url", NormalizeBaseURL, "https://[2001:DB8::1]:8443", "https://[2001:db8::1]:8443"},
		{"base url", NormalizeBaseURL, "http://10.0.0.1:0080", "http://10.0.0.1"},
		{"base url", NormalizeBaseURL, "https://example.com/app", ""},
		{"base url", NormalizeBaseURL, "https://example.com/?q=1", ""},
		{"base url", NormalizeBaseURL, "https://example.com/#top", ""},
		{"base url", NormalizeBaseURL, "https://user:pw@example.com", ""},
		{"base url", NormalizeBaseURL, "https://example.com:99999", ""},
		{"base url", NormalizeBaseURL, "ftp://example.com", ""},
		{"base url", NormalizeBaseURL, "example.com", ""},
		{"base url", NormalizeBaseURL, "https://", ""},

		{"cloud id", NormalizeCloudID, " " + arn1 + " ", arn1},
		{"cloud id", NormalizeCloudID, "/SUBSCRIPTIONS/abc/resourceGroups/RG/providers/Microsoft.Compute/virtualMachines/VM1",
			"/subscriptions/abc/resourcegroups/rg/providers/microsoft.compute/virtualmachines/vm1"},
		{"cloud id", NormalizeCloudID, "https://www.googleapis.com/compute/v1/projects/p/zones/z/instances/I",
			"https://www.googleapis.com/compute/v1/projects/p/zones/z/instances/I"},
		{"cloud id", NormalizeCloudID, "  ", ""},
		{"cloud id", NormalizeCloudID, "arn:aws:s3:::a\nb", ""},
		{"cloud id", NormalizeCloudID, "\xff", ""},
	}
	for _, c := range cases {
		got, err := c.f(c.in)
		switch {
		case c.want == "" && err == nil:
			t.Errorf("%s %q: accepted as %q, want refused", c.what, c.in, got)
		case c.want != "" && (err != nil || got != c.want):
			t.Errorf("%s %q: got %q, %v; want %q", c.what, c.in, got, err, c.want)
		}
		// Normalised values are fixed points.
		if c.want != "" {
			if again, err := c.f(c.want); err != nil || again != c.want {
				t.Errorf("%s %q is not a fixed point: %q, %v", c.what, c.want, again, err)
			}
		}
	}
}

func TestPlaceholders(t *testing.T) {
	for mac, want := range map[string]bool{
		"00:00:00:00:00:00": true, "FF:FF:FF:FF:FF:FF": true, "01:00:5E:00:00:FB": true, "33:33:00:00:00:01": true,
		"00:00:5E:00:01:0A": true, "00:00:5E:00:02:0A": true, "00:00:0C:07:AC:01": true, "00:00:0C:9F:F0:01": true,
		"00:07:B4:00:01:02": true, "02:42:AC:11:00:02": true,
		"AA:BB:CC:00:00:01": false, "00:50:56:AB:CD:EF": false, "0A:1B:2C:3D:4E:5F": false, "02:42:0A:00:00:05": false,
	} {
		if PlaceholderMAC(mac) != want {
			t.Errorf("PlaceholderMAC(%s) = %v", mac, !want)
		}
	}
	for ip, want := range map[string]bool{
		"0.0.0.0": true, "::": true, "127.0.0.1": true, "::1": true, "224.0.0.251": true, "255.255.255.255": true,
		"10.0.0.1": false, "169.254.1.1": false, "fe80::1": false, "2001:db8::1": false,
	} {
		if PlaceholderIP(ip) != want {
			t.Errorf("PlaceholderIP(%s) = %v", ip, !want)
		}
	}
	for ip, want := range map[string]bool{"169.254.1.1": false, "fe80::1": false, "10.0.0.1": true, "127.0.0.1": false} {
		if matchableIP(ip) != want {
			t.Errorf("matchableIP(%s) = %v", ip, !want)
		}
	}
	if !PlaceholderHostname("localhost") || PlaceholderHostname("web01") {
		t.Error("PlaceholderHostname")
	}
}

func TestMergeAndEqual(t *testing.T) {
	a := Identifiers{IPs: []string{"10.0.0.2", "10.0.0.10"}, MACs: []string{"AA:BB:CC:00:00:01"}}
	b := Identifiers{IPs: []string{"10.0.0.9", "10.0.0.2"}, CloudID: arn1}
	m := merge(a, b)
	want := Identifiers{IPs: []string{"10.0.0.2", "10.0.0.9", "10.0.0.10"}, MACs: []string{"AA:BB:CC:00:00:01"}, CloudID: arn1}
	if !m.Equal(want) {
		t.Fatalf("merge: %+v", m)
	}
	if !merge(Identifiers{}, Identifiers{}).IsEmpty() || m.Equal(a) {
		t.Fatal("Equal/IsEmpty")
	}
}
