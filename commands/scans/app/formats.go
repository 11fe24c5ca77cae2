package app

import (
	"cmp"
	"slices"
	"strings"

	"github.com/socplatform/soc/commands/scans/importers"
)

// Formats documents every format the platform reads, the parsers of DefaultParsers in their
// order (the custom mapping last). GET /v1/scans/formats, `soc import --list-formats` and the
// README table all show this list.
func Formats() []importers.FormatInfo {
	var out []importers.FormatInfo
	for _, p := range DefaultParsers() {
		if d, ok := p.(importers.Describer); ok { // every one is: TestParsersDescribed
			out = append(out, d.Info())
		}
	}
	return out
}

// SeverityRows are a format's severity mapping in a stable order: most severe first, then by the
// scanner's value.
func SeverityRows(in importers.FormatInfo) []string {
	rank := map[importers.Severity]int{importers.Critical: 0, importers.High: 1, importers.Medium: 2, importers.Low: 3, importers.Info: 4}
	keys := make([]string, 0, len(in.Severity))
	for k := range in.Severity {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		return cmp.Or(cmp.Compare(rank[in.Severity[a]], rank[in.Severity[b]]), strings.Compare(a, b))
	})
	rows := make([]string, len(keys))
	for i, k := range keys {
		rows[i] = k + " → " + string(in.Severity[k])
	}
	return rows
}

// FormatsMarkdown renders formats as the README's Markdown table.
func FormatsMarkdown(formats []importers.FormatInfo) string {
	var b strings.Builder
	b.WriteString("| Format | Scanner / report | Family | Versions | Detected by | Fingerprint | Severity |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- |\n")
	cell := func(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ") }
	for _, f := range formats {
		b.WriteString("| `" + f.Name + "` | " + cell(f.Title) + " | " + f.Family + " | " + cell(strings.Join(f.Versions, "; ")) +
			" | " + cell(f.Detection) + " | " + cell(strings.Join(f.Fingerprint, " + ")) + " | " + cell(strings.Join(SeverityRows(f), "; ")) + " |\n")
	}
	return b.String()
}
