package app

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
)

func spillSample() []importers.Finding {
	zero, nine := 0.0, 9.8
	return []importers.Finding{
		{AssetKey: "a", Fingerprint: "f1", Title: "bytes kept as they are: \xff\xfe", Severity: importers.High,
			CVSS:      []importers.CVSS{{Version: "3.1", Score: &zero}, {Version: "3.1", Score: &nine}, {Version: "2.0"}},
			Component: &importers.Component{}, Suppressed: &importers.Suppression{Kind: importers.SuppressedAccepted, Source: "trivy Status"},
			Locations: []importers.Location{{File: "a.go", Line: 1}, {File: "b.go"}}},
		{AssetKey: "b", Fingerprint: "f2", Kind: importers.KindLicense, CVEs: []string{"CVE-2024-1"}},
	}
}

// A spilled report reads back as it was parsed, every time it is read, including what gob
// alone would lose (a scanner score of 0), and lets go of the report's own copy.
func TestSpilledFindingsReadBackAsParsed(t *testing.T) {
	rep := &importers.Report{Findings: spillSample()}
	l, err := takeFindings(rep, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	if rep.Findings != nil || l.file == nil {
		t.Fatalf("not spilled: report keeps %d findings", len(rep.Findings))
	}
	want := spillSample()
	for pass := 1; pass <= 2; pass++ {
		var got []importers.Finding
		if err := l.each(context.Background(), func(i int, f *importers.Finding) error {
			if i != len(got) {
				t.Fatalf("pass %d: index %d after %d findings", pass, i, len(got))
			}
			got = append(got, *f)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("pass %d: read back\n%+v\nwant\n%+v", pass, got, want)
		}
	}
}

// Reading the findings stops when the import is cancelled, spilled or not.
func TestReadingFindingsStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, spillAbove := range []int{0, 10} {
		l, err := takeFindings(&importers.Report{Findings: spillSample()}, spillAbove)
		if err != nil {
			t.Fatal(err)
		}
		err = l.each(ctx, func(int, *importers.Finding) error { t.Fatal("called after cancel"); return nil })
		l.close()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("spill above %d: %v, want context.Canceled", spillAbove, err)
		}
	}
}
