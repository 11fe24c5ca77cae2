package cvss

import "testing"

var benchSink Result

// BenchmarkScore31 parses and scores a CVSS v3.1 vector with base, temporal and
// environmental metrics (the most work a v3.1 vector takes).
func BenchmarkScore31(b *testing.B) {
	benchScore(b, "CVSS:3.1/AV:A/AC:H/PR:L/UI:N/S:C/C:H/I:L/A:L/E:F/RL:U/RC:R/CR:H/IR:M/AR:L/MAV:N/MAC:L/MPR:N/MUI:N/MS:C/MC:H/MI:H/MA:H")
}

// BenchmarkScore40 parses and scores a CVSS v4.0 CVSS-BTE vector (two scorings:
// the vector as written and its CVSS-B score).
func BenchmarkScore40(b *testing.B) {
	benchScore(b, "CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:P/VC:N/VI:H/VA:H/SC:N/SI:L/SA:L/E:P/CR:H/IR:M/AR:H/MAV:A/MAT:P/MPR:N/MVI:H/MVA:N/MSI:H/MSA:N/S:N/V:C/U:Amber")
}

// BenchmarkScore40Base is BenchmarkScore40 for a base-only (CVSS-B) vector.
func BenchmarkScore40Base(b *testing.B) {
	benchScore(b, "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")
}

// benchScore parses and scores vector in a loop.
func benchScore(b *testing.B, vector string) {
	b.ReportAllocs()
	for b.Loop() {
		r, err := Score(vector)
		if err != nil {
			b.Fatal(err)
		}
		benchSink = r
	}
}
