package search_test

import (
	"slices"
	"testing"

	"github.com/socplatform/soc/projections/search"
)

func TestPackageNames(t *testing.T) {
	cases := []struct {
		from      string // where the component comes from
		component string
		purls     []string
		want      []string
	}{
		// The findings' components as the importers make them from the shared reports
		// (../shared/testdata), with the purl the report gave.
		{"dependency-check 3.1.1 nodejs", "connect@0.5.10", nil, []string{"connect"}},
		{"snyk container app", "express@2.5.11", nil, []string{"express"}},
		{"npm audit v2 (no version, bare purl)", "axios", []string{"pkg:npm/axios"}, []string{"axios"}},
		{"trivy fs catalina (Maven)", "org.apache.tomcat:tomcat-catalina@9.0.109", []string{"pkg:maven/org.apache.tomcat/tomcat-catalina@9.0.109"},
			[]string{"org.apache.tomcat/tomcat-catalina", "org.apache.tomcat:tomcat-catalina", "tomcat-catalina"}},
		{"trivy image juice-shop (apk, qualifiers)", "busybox@1.31.1-r10", []string{"pkg:apk/alpine/busybox@1.31.1-r10?arch=x86_64&distro=3.11.12"},
			[]string{"alpine/busybox", "busybox"}},
		{"trivy image juice-shop (npm, dotted name)", "lodash.set@4.3.2", []string{"pkg:npm/lodash.set@4.3.2"}, []string{"lodash.set"}},
		{"trivy repo securecodebox (Go module)", "golang.org/x/net@0.17.0", []string{"pkg:golang/golang.org/x/net@0.17.0"},
			[]string{"golang.org/x/net", "net"}},
		{"grype rhel 8.7 (rpm, epoch in the version)", "bind-libs@32:9.11.36-5.el8_7.2",
			[]string{"pkg:rpm/rhel/bind-libs@9.11.36-5.el8_7.2?arch=x86_64&epoch=32&upstream=bind-9.11.36-5.el8_7.2.src.rpm&distro=rhel-8.7"},
			[]string{"bind-libs", "rhel/bind-libs"}},
		{"grype rhel 8.7 (Maven by artifact)", "avro@1.11.1", []string{"pkg:maven/org.apache.avro/avro@1.11.1"}, []string{"avro", "org.apache.avro/avro"}},
		{"grype chainguard (gem)", "uri@0.10.1", []string{"pkg:gem/uri@0.10.1"}, []string{"uri"}},
		// Forms the shared reports lack.
		{"npm scoped", "@babel/traverse@7.22.5", []string{"pkg:npm/%40babel/traverse@7.22.5#lib"}, []string{"@babel/traverse", "traverse"}},
		{"npm scoped, no version", "@types/node", nil, []string{"@types/node", "node"}},
		{"upper case", "PyYAML@5.3", []string{"pkg:pypi/PyYAML@5.3"}, []string{"pyyaml"}},
		{"Maven, no version", "org.apache.logging.log4j:log4j-core", nil, []string{"log4j-core", "org.apache.logging.log4j:log4j-core"}},
		// Locations (what the component string falls back to) name no package.
		{"file and line", "src/app.js:12", nil, nil},
		{"path", "/etc/passwd", nil, nil},
		{"URL", "https://shop.example.com/rest/user/login", nil, nil},
		{"host and port", "10.0.0.5:443", nil, nil},
		{"image tag", "nginx:1.19", nil, nil},
		{"image by digest", "nginx@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31", nil, nil},
		{"empty", "", nil, nil},
		{"not a purl", "", []string{"npm/axios", "pkg:npm"}, nil},
	}
	for _, c := range cases {
		if got := search.PackageNames(c.component, c.purls...); !slices.Equal(got, c.want) {
			t.Errorf("%s: PackageNames(%q, %q) = %q, want %q", c.from, c.component, c.purls, got, c.want)
		}
	}
}
