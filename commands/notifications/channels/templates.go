package channels

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"
)

// Default templates, one directory per kind:
//
//	templates/<kind>/subject.tmpl     subject / header line (text/template), every channel
//	templates/<kind>/email.txt.tmpl   email text part (text/template)
//	templates/<kind>/email.html.tmpl  email HTML part (html/template)
//	templates/<kind>/slack.tmpl       Slack mrkdwn (text/template; escape data with {{mrkdwn}})
//	templates/<kind>/teams.tmpl       Teams Adaptive Card TextBlock markdown (text/template)
//	templates/<kind>/sms.tmpl         SMS body (text/template)
//	templates/<kind>/text.tmpl        generic webhook "text" (text/template)
//
//go:embed templates
var defaultFS embed.FS

// templateFiles maps the recognised file names to the part they render.
var templateFiles = map[string]string{
	"subject.tmpl":    "subject",
	"email.txt.tmpl":  ChannelEmail,
	"email.html.tmpl": "html",
	"slack.tmpl":      ChannelSlack,
	"teams.tmpl":      ChannelTeams,
	"sms.tmpl":        ChannelSMS,
	"text.tmpl":       ChannelWebhook,
}

var kindPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

// Rendered is the content of one message on one channel.
type Rendered struct {
	Subject string
	Text    string
	HTML    string // email only
}

// Templates holds parsed templates keyed by kind and part. It is immutable
// after loading and safe for concurrent use.
type Templates struct {
	text map[string]*texttemplate.Template // "<kind>/<part>"
	html map[string]*htmltemplate.Template // "<kind>/html"
}

// TemplateFuncs are available in every template:
//
//	mrkdwn   escape &, <, > for Slack mrkdwn
//	upper, lower
//	date     format a time.Time (or RFC 3339 string) as "2006-01-02 15:04 MST"
//	trunc N  cut a string to N characters, adding "…"
//	default  {{ .X | default "n/a" }}
func TemplateFuncs() map[string]any {
	return map[string]any{
		"mrkdwn":  EscapeMrkdwn,
		"upper":   strings.ToUpper,
		"lower":   strings.ToLower,
		"date":    formatDate,
		"trunc":   func(n int, s string) string { return truncateEllipsis(s, n) },
		"default": defaultValue,
	}
}

var defaultTemplates = sync.OnceValues(func() (*Templates, error) {
	sub, err := fs.Sub(defaultFS, "templates")
	if err != nil {
		return nil, err
	}
	return parseTemplates(sub, nil)
})

// DefaultTemplates returns the embedded templates. It panics if they do not
// parse, which the package tests rule out.
func DefaultTemplates() *Templates {
	t, err := defaultTemplates()
	if err != nil {
		panic(err)
	}
	return t
}

// LoadTemplates returns the embedded templates overridden by the files in
// dir (same layout: <dir>/<kind>/<part>.tmpl). A directory for a new kind
// adds that kind. Every template, default or override, is parsed now and,
// for the built-in kinds, executed against sample data; any failure (or an
// unrecognised file name) makes LoadTemplates fail, listing every problem.
func LoadTemplates(dir string) (*Templates, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	return LoadTemplatesFS(os.DirFS(dir))
}

// LoadTemplatesFS is LoadTemplates over an fs.FS.
func LoadTemplatesFS(overrides fs.FS) (*Templates, error) {
	sub, err := fs.Sub(defaultFS, "templates")
	if err != nil {
		return nil, err
	}
	return parseTemplates(sub, overrides)
}

func parseTemplates(defaults, overrides fs.FS) (*Templates, error) {
	sources := map[string]string{} // "<kind>/<file>" -> source
	var problems []error
	collect := func(fsys fs.FS, origin string) {
		entries, err := fs.ReadDir(fsys, ".")
		if err != nil {
			problems = append(problems, fmt.Errorf("%s: %w", origin, err))
			return
		}
		for _, e := range entries {
			if !e.IsDir() {
				problems = append(problems, fmt.Errorf("%s/%s: expected a directory per kind", origin, e.Name()))
				continue
			}
			kind := e.Name()
			if !kindPattern.MatchString(kind) {
				problems = append(problems, fmt.Errorf("%s/%s: invalid kind name", origin, kind))
				continue
			}
			files, err := fs.ReadDir(fsys, kind)
			if err != nil {
				problems = append(problems, fmt.Errorf("%s/%s: %w", origin, kind, err))
				continue
			}
			for _, f := range files {
				name := path.Join(kind, f.Name())
				if _, ok := templateFiles[f.Name()]; !ok || f.IsDir() {
					problems = append(problems, fmt.Errorf("%s/%s: unrecognised template file (want one of %s)", origin, name, strings.Join(fileNames(), ", ")))
					continue
				}
				b, err := fs.ReadFile(fsys, name)
				if err != nil {
					problems = append(problems, fmt.Errorf("%s/%s: %w", origin, name, err))
					continue
				}
				sources[name] = string(b)
			}
		}
	}
	collect(defaults, "embedded")
	if overrides != nil {
		collect(overrides, "override")
	}
	t := &Templates{text: map[string]*texttemplate.Template{}, html: map[string]*htmltemplate.Template{}}
	names := make([]string, 0, len(sources))
	for n := range sources {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		kind, file := path.Split(name)
		kind = strings.TrimSuffix(kind, "/")
		part := templateFiles[file]
		if part == "html" {
			tt, err := htmltemplate.New(name).Funcs(TemplateFuncs()).Parse(sources[name])
			if err != nil {
				problems = append(problems, err)
				continue
			}
			t.html[kind+"/html"] = tt
		} else {
			tt, err := texttemplate.New(name).Funcs(TemplateFuncs()).Parse(sources[name])
			if err != nil {
				problems = append(problems, err)
				continue
			}
			t.text[kind+"/"+part] = tt
		}
	}
	if len(problems) == 0 {
		// Execute every template of the built-in kinds against sample data:
		// a template that parses but calls a missing field fails now, not
		// at 3 a.m. on the first breach.
		for _, kind := range Kinds {
			data := templateData(Message{ID: "sample", Kind: kind, Severity: "critical", To: Recipient{Name: "Sample", Email: "sample@example.com"}, Data: SampleData(kind)})
			for key, tt := range t.text {
				if strings.HasPrefix(key, kind+"/") {
					c, err := tt.Clone() // Option mutates; keep the stored template lenient
					if err == nil {
						err = c.Option("missingkey=error").Execute(&bytes.Buffer{}, data)
					}
					if err != nil {
						problems = append(problems, fmt.Errorf("sample execution: %w", err))
					}
				}
			}
			if tt, ok := t.html[kind+"/html"]; ok {
				c, err := tt.Clone()
				if err == nil {
					err = c.Option("missingkey=error").Execute(&bytes.Buffer{}, data)
				}
				if err != nil {
					problems = append(problems, fmt.Errorf("sample execution: %w", err))
				}
			}
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("templates: %w", errors.Join(problems...))
	}
	return t, nil
}

func fileNames() []string {
	out := make([]string, 0, len(templateFiles))
	for n := range templateFiles {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Has reports whether kind has a template for channel.
func (t *Templates) Has(channel, kind string) bool {
	_, ok := t.text[kind+"/"+channel]
	return ok
}

// Render renders m.Kind for channel with m.Data (plus ID, Kind, Severity and
// Recipient, unless Data sets them).
func (t *Templates) Render(channel string, m Message) (Rendered, error) {
	var r Rendered
	body, ok := t.text[m.Kind+"/"+channel]
	if !ok {
		return r, fmt.Errorf("templates: no %s template for kind %q", channel, m.Kind)
	}
	data := templateData(m)
	var buf bytes.Buffer
	if st, ok := t.text[m.Kind+"/subject"]; ok {
		if err := st.Execute(&buf, data); err != nil {
			return r, fmt.Errorf("templates: %w", err)
		}
		r.Subject = oneLine(buf.String())
		buf.Reset()
	}
	if err := body.Execute(&buf, data); err != nil {
		return r, fmt.Errorf("templates: %w", err)
	}
	r.Text = strings.TrimSpace(buf.String()) + "\n"
	if channel == ChannelEmail {
		if ht, ok := t.html[m.Kind+"/html"]; ok {
			buf.Reset()
			if err := ht.Execute(&buf, data); err != nil {
				return r, fmt.Errorf("templates: %w", err)
			}
			r.HTML = buf.String()
		}
	}
	return r, nil
}

func templateData(m Message) map[string]any {
	d := make(map[string]any, len(m.Data)+4)
	for k, v := range m.Data {
		d[k] = v
	}
	for k, v := range map[string]any{"ID": m.ID, "Kind": m.Kind, "Severity": m.Severity, "Recipient": m.To} {
		if _, set := d[k]; !set {
			d[k] = v
		}
	}
	return d
}

func formatDate(v any) string {
	switch t := v.(type) {
	case time.Time:
		return t.UTC().Format("2006-01-02 15:04 MST")
	case *time.Time:
		if t == nil {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04 MST")
	case string:
		if p, err := time.Parse(time.RFC3339, t); err == nil {
			return p.UTC().Format("2006-01-02 15:04 MST")
		}
		return t
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

func defaultValue(def string, v any) any {
	if v == nil {
		return def
	}
	if s, ok := v.(string); ok && s == "" {
		return def
	}
	return v
}

func truncateEllipsis(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return truncateRunes(s, n-1) + "…"
}

// SampleData returns example template data for a built-in kind: the data
// contract templates may rely on. The notification service builds the same
// shape from events.
func SampleData(kind string) map[string]any {
	finding := map[string]any{
		"ID":       "vulns-finding-0192f3a0-0000-7000-8000-000000000001",
		"Title":    "OpenSSH regreSSHion remote code execution",
		"Severity": "critical",
		"Asset":    "web-01.prod.example.com",
		"CVE":      "CVE-2024-6387",
		"URL":      "https://soc.example.com/findings/0192f3a0",
	}
	due := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	switch kind {
	case KindNewFindings:
		return map[string]any{
			"Scan": map[string]any{"ID": "scans-scan-0192f3a0", "Name": "nightly nmap 10.0.0.0/24", "CompletedAt": due},
			"Findings": []map[string]any{
				finding,
				{"ID": "vulns-finding-2", "Title": "TLS 1.0 enabled", "Severity": "high", "Asset": "mail.example.com", "CVE": "", "URL": ""},
			},
			"URL": "https://soc.example.com/scans/0192f3a0",
		}
	case KindKEVAlert:
		return map[string]any{
			"Finding": finding,
			"KEV":     map[string]any{"DateAdded": "2024-07-01", "DueDate": "2024-07-22", "KnownRansomware": "Unknown", "VulnerabilityName": "OpenSSH Signal Handler Race Condition"},
		}
	case KindSLAReminder:
		return map[string]any{"Finding": finding, "DueAt": due, "Remaining": "48h"}
	case KindSLABreach:
		return map[string]any{"Finding": finding, "DueAt": due, "Owner": "Alice Example", "Overdue": "2h"}
	case KindRiskAcceptanceExpired:
		return map[string]any{"Finding": finding, "AcceptedBy": "Bob Example", "ExpiredAt": due, "Reason": "compensating WAF rule"}
	}
	return map[string]any{}
}
