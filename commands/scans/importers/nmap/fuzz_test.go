package nmap

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
)

// FuzzParse checks that no input makes Parse panic, return an error other than a positioned
// *importers.ParseError, or return a report that breaks the invariants (unique fingerprints
// included) or is not deterministic. More seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add([]byte(small))
	for _, s := range []string{
		`<nmaprun start="1"><host><address addr="::1" addrtype="ipv6"/><ports><port protocol="tcp" portid="22"><state state="open"/><service name="ssh"><cpe>cpe:/a:x</cpe></service><script id="vulners"><table key="cpe:/a:x"><table><elem key="id">CVE-2020-0001</elem><elem key="cvss">9.8</elem><elem key="type">cve</elem></table></table></script></port></ports></host></nmaprun>`,
		`<nmaprun><host><hostscript><script id="smb-vuln-x" output="VULNERABLE:&#xa;T&#xa;  State: VULNERABLE&#xa;  Risk factor: LOW"><table key="NMAP-1"><elem key="title">T</elem><elem key="state">LIKELY VULNERABLE</elem><table key="scores"><elem key="CVSSv3">5.0 (MEDIUM) (CVSS:3.1/AV:N)</elem></table></table></script></hostscript></host></nmaprun>`,
		`<!DOCTYPE nmaprun [<!ENTITY a "b">]><nmaprun>&a;</nmaprun>`,
		`<nmaprun><a><a><a><a>`,
		"<nmaprun><host><hostnames><hostname name=\"\xff\"/></hostnames></host></nmaprun>",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := &Parser{MaxBytes: 1 << 20, MaxDepth: 32}
		p.Detect(data)
		rep, err := p.Parse(context.Background(), bytes.NewReader(data))
		if err != nil {
			var pe *importers.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v, want *importers.ParseError", err, err)
			}
			if pe.Offset < 0 || pe.Offset > int64(len(data)) || pe.Line < 1 || pe.Column < 1 {
				t.Fatalf("ParseError position out of the input: %+v (len %d)", pe, len(data))
			}
			return
		}
		checkInvariants(t, rep)
		again, err := p.Parse(context.Background(), bytes.NewReader(data))
		if err != nil || len(again.Findings) != len(rep.Findings) {
			t.Fatalf("second parse differs: %v", err)
		}
		for i := range rep.Findings {
			if rep.Findings[i].Fingerprint != again.Findings[i].Fingerprint {
				t.Fatalf("fingerprint %d not deterministic", i)
			}
		}
	})
}
