package codescan

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
)

func TestReportHasOneWeakRepository(t *testing.T) {
	rep := Report("bandit")
	if len(rep.Assets) != 1 || rep.Assets[0].Key != "bandit" || rep.Assets[0].Kind != importers.Repository || rep.Assets[0].Name != "bandit" {
		t.Errorf("assets %+v", rep.Assets)
	}
	if *rep.Target != (importers.Target{Name: "bandit", Hint: "tool_path"}) || rep.Findings == nil {
		t.Errorf("report %+v", rep)
	}
}

func TestScannerErrorsAreCapped(t *testing.T) {
	w, err := jsonguard.Open(context.Background(), "x", strings.NewReader(`{}`), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ws Warnings
	rep := Report("x")
	ws.Finish(rep, "x", w)
	if rep.Warnings != nil {
		t.Errorf("no warnings gave %q", rep.Warnings)
	}
	ws.Add("first")
	calls := 0
	for i := range MaxScannerErrors + 3 {
		ws.ScannerError(func() string { calls++; return fmt.Sprint("error ", i) })
	}
	ws.Finish(rep, "x", w)
	if calls != MaxScannerErrors || len(rep.Warnings) != MaxScannerErrors+2 || rep.Warnings[0] != "first" ||
		!slices.Contains(rep.Warnings, "3 more x errors not shown") {
		t.Errorf("%d calls, warnings %q", calls, rep.Warnings)
	}
}
