package app_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/commands/scans/importers/mapped"
)

var updateREADME = flag.Bool("update-readme", false, "rewrite the README's formats table from Formats()")

const (
	tableBegin = "<!-- formats table: generated from app.Formats(); go test ./commands/scans/app -run TestREADMEFormats -update-readme -->\n"
	tableEnd   = "<!-- end of formats table -->\n"
)

// TestREADMEFormats: the README's formats table is FormatsMarkdown(Formats()), so that it cannot
// drift from the parsers' Info.
func TestREADMEFormats(t *testing.T) {
	path := filepath.Join(testsupport.RepoRoot(t), "README.md")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	before, rest, ok1 := strings.Cut(readme, tableBegin)
	table, after, ok2 := strings.Cut(rest, tableEnd)
	if !ok1 || !ok2 {
		t.Fatalf("README.md lacks the markers %q … %q", tableBegin, tableEnd)
	}
	want := app.FormatsMarkdown(app.Formats())
	if table == want {
		return
	}
	if *updateREADME {
		if err := os.WriteFile(path, []byte(before+tableBegin+want+tableEnd+after), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("the README's formats table is out of date: run go test ./commands/scans/app -run TestREADMEFormats -update-readme\nwant:\n%s", want)
}

// TestFormats: the list holds every default parser in order, the custom mapping last.
func TestFormats(t *testing.T) {
	got := app.Formats()
	parsers := app.DefaultParsers()
	if len(got) != len(parsers) {
		t.Fatalf("%d formats for %d parsers", len(got), len(parsers))
	}
	for i, p := range parsers {
		if got[i].Name != p.Format() {
			t.Errorf("formats[%d] = %s, want %s", i, got[i].Name, p.Format())
		}
	}
	if last := got[len(got)-1]; last.Name != mapped.Format {
		t.Errorf("last format %s", last.Name)
	}
}

// TestFormatsMarkdown: one row per format; a '|' in a cell is escaped, severities most severe
// first.
func TestFormatsMarkdown(t *testing.T) {
	md := app.FormatsMarkdown(app.Formats())
	if n := strings.Count(md, "\n"); n != len(app.Formats())+2 {
		t.Errorf("%d lines:\n%s", n, md)
	}
	if !strings.Contains(md, "| `nessus` |") || !strings.Contains(md, "4 / Critical → critical; 3 / High → high") {
		t.Errorf("nessus row:\n%s", md)
	}
	for _, line := range strings.Split(strings.TrimSpace(md), "\n") {
		if cells := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|"); cells != 8 {
			t.Errorf("%d cell borders in %q", cells, line)
		}
	}
}
