package feeds

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/socplatform/soc/commands/internal/testsupport"
)

// Every file under ../shared/testdata/{nvd,kev,epss} is read here, so a file added there without
// a expectation fails this test. Record counts (jq/awk, computed outside this code):
//
//	jq '.vulnerabilities|length' nvd/nvd_api2_page_38cves.json                  → 38
//	jq '.vulnerabilities|length' nvd/nvd_api2_single_CVE-2022-1576.json         → 1
//	jq -r '.id' nvd/nvd_cve_CVE-2024-0012_v40_v31_kev.json                      → CVE-2024-0012 (one bare CVE)
//	jq -r '.cve.id' nvd/nvd_cve_CVE-2026-25076_v40_anchore_augmented.json       → CVE-2026-25076 (one wrapped CVE)
//	jq '.vulnerabilities|length' kev/kev_subset_3entries_2025.02.19.json        → 3 (its "count" says 1273)
//	jq '.vulnerabilities|length' kev/known_exploited_vulnerabilities_2025.08.25.json → 1404
//	jq 'has("vulnerabilities")' kev/known_exploited_vulnerabilities_schema.json → false (a JSON Schema, not a catalogue)
//	awk -F, '/^CVE-/{n++} END{print n}' epss/epss_scores_2025-02-20_5rows.csv   → 5
//	awk -F, '/^CVE-/{n++} END{print n}' epss/epss_scores_2026-09-29_head100.csv → 100
func TestSharedFilesAllCovered(t *testing.T) {
	want := map[string]struct {
		records  int
		warnings int
		cause    error
	}{
		"nvd/nvd_api2_page_38cves.json":                         {38, 0, nil},
		"nvd/nvd_api2_single_CVE-2022-1576.json":                {1, 0, nil},
		"nvd/nvd_cve_CVE-2024-0012_v40_v31_kev.json":            {1, 0, nil},
		"nvd/nvd_cve_CVE-2026-25076_v40_anchore_augmented.json": {1, 0, nil},
		"kev/kev_subset_3entries_2025.02.19.json":               {3, 1, nil},
		"kev/known_exploited_vulnerabilities_2025.08.25.json":   {1404, 0, nil},
		"kev/known_exploited_vulnerabilities_schema.json":       {0, 0, ErrUnknownFormat},
		"epss/epss_scores_2025-02-20_5rows.csv":                 {5, 0, nil},
		"epss/epss_scores_2026-09-29_head100.csv":               {100, 0, nil},
	}
	root := testsupport.SharedTestdata(t)
	seen := 0
	for _, dir := range []string{"nvd", "kev", "epss"} {
		entries, err := os.ReadDir(filepath.Join(root, dir))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			name := dir + "/" + e.Name()
			w, ok := want[name]
			if !ok {
				t.Errorf("%s: no expectation; add one (with the jq that computes it)", name)
				continue
			}
			seen++
			data := readShared(t, dir, e.Name())
			var st Stats
			switch dir {
			case "nvd":
				_, st, err = collectNVD(Options{}, data)
			case "kev":
				_, st, err = collectKEV(Options{}, data)
			default:
				_, st, err = collectEPSS(Options{}, data)
			}
			if w.cause != nil {
				asParseError(t, err, w.cause)
			} else if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			if st.Records != w.records || len(st.Warnings) != w.warnings {
				t.Errorf("%s: %d records, %d warnings; want %d, %d", name, st.Records, len(st.Warnings), w.records, w.warnings)
			}
		}
	}
	if seen != len(want) {
		t.Errorf("read %d of the %d expected files", seen, len(want))
	}
}
