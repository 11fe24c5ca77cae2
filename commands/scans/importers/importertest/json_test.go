package importertest

import (
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

// TestDerived: Spec.JSON adds the "unknown string" stream before the Spec's own and fills in
// only what the Spec leaves empty (its own Hostile case replaces the standard one of that
// name); Limits gives Limited its small MaxBytes.
func TestDerived(t *testing.T) {
	var limits []Limits
	s := Spec{
		Limits:    func(l Limits) importers.Parser { limits = append(limits, l); return stubParser{} },
		JSON:      &JSONRecords{Key: "results", Record: `{"id": 1}`, Records: 3},
		Bounded:   []Stream{{Name: "own"}},
		Cancelled: `{"results": [{"id": 1}]}`,
		Hostile:   []Hostile{{Name: "trailing data", In: `{"results": []}}`}},
	}.derived()
	if h := s.Hostile; len(h) != 2 || h[0].Name != "empty" || h[1].In != `{"results": []}}` {
		t.Errorf("Hostile = %+v", h)
	}
	if len(s.Bounded) != 2 || s.Bounded[0].Name != "unknown string" || s.Bounded[1].Name != "own" {
		t.Errorf("Bounded = %+v", s.Bounded)
	}
	if s.Cancelled != `{"results": [{"id": 1}]}` || !strings.HasPrefix(s.OverLimit, `{"results": [], "x": "aaa`) || len(s.OverLimit) <= limitedBytes {
		t.Errorf("Cancelled %q, OverLimit %.40q (%d bytes)", s.Cancelled, s.OverLimit, len(s.OverLimit))
	}
	if c := s.CancelStreams; len(c) != 1 || c[0].Prefix != `{"results": [{"id": 1}` || c[0].Size != 3*int64(len(`,{"id": 1}`)) {
		t.Errorf("CancelStreams = %+v", c)
	}
	if s.Limited == nil || len(limits) != 1 || limits[0] != (Limits{MaxBytes: limitedBytes}) {
		t.Errorf("Limited %v from limits %+v", s.Limited, limits)
	}
	s.FuzzParser()
	if limits[1] != FuzzLimits {
		t.Errorf("fuzz parser limits %+v", limits[1])
	}
}

// TestFingerprint: the documented fingerprint passes, another fails once.
func TestFingerprint(t *testing.T) {
	var f failures
	Fingerprint(&f, parseutil.FingerprintJSON("x/v1", "a"), "", "x/v1", "a")
	if f.n != 0 {
		t.Errorf("the documented fingerprint: %d failures", f.n)
	}
	Fingerprint(&f, parseutil.FingerprintJSON("x/v1", "b"), "the id", "x/v1", "a")
	if f.n != 1 {
		t.Errorf("another fingerprint: %d failures, want 1", f.n)
	}
}
