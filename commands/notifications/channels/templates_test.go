package channels

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultTemplatesRenderEveryKindAndChannel(t *testing.T) {
	tm := DefaultTemplates()
	for _, kind := range Kinds {
		for _, ch := range []string{ChannelEmail, ChannelSlack, ChannelTeams, ChannelSMS, ChannelWebhook} {
			if !tm.Has(ch, kind) {
				t.Fatalf("no %s template for %s", ch, kind)
			}
			r, err := tm.Render(ch, Message{ID: "id-1", Kind: kind, Severity: "critical", To: Recipient{Name: "Alice"}, Data: SampleData(kind)})
			if err != nil {
				t.Fatalf("%s/%s: %v", kind, ch, err)
			}
			all := r.Subject + r.Text + r.HTML
			if r.Subject == "" || strings.TrimSpace(r.Text) == "" || strings.Contains(all, "<no value>") {
				t.Fatalf("%s/%s rendered %+v", kind, ch, r)
			}
			if (ch == ChannelEmail) != (r.HTML != "") {
				t.Fatalf("%s/%s: HTML only for email", kind, ch)
			}
		}
	}
}

func TestHTMLTemplateEscapesData(t *testing.T) {
	data := SampleData(KindKEVAlert)
	data["Finding"].(map[string]any)["Title"] = `<script>alert(1)</script>`
	data["Finding"].(map[string]any)["URL"] = `javascript:alert(1)`
	r, err := DefaultTemplates().Render(ChannelEmail, Message{ID: "x", Kind: KindKEVAlert, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.HTML, "<script>") || strings.Contains(r.HTML, `href="javascript:`) {
		t.Fatalf("HTML not escaped:\n%s", r.HTML)
	}
	if !strings.Contains(r.Text, "<script>alert(1)</script>") {
		t.Fatal("text part must carry the title verbatim")
	}
}

func TestLoadTemplatesOverrides(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, src string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("kev_alert/sms.tmpl", "KEV {{.Finding.CVE}} on {{.Finding.Asset}}")
	write("scan_failed/subject.tmpl", "Scan {{.Scan}} failed")
	write("scan_failed/text.tmpl", "Scan {{.Scan}} failed: {{.Reason}}")
	tm, err := LoadTemplates(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := tm.Render(ChannelSMS, Message{ID: "x", Kind: KindKEVAlert, Data: SampleData(KindKEVAlert)})
	if err != nil || r.Text != "KEV CVE-2024-6387 on web-01.prod.example.com\n" {
		t.Fatalf("override not used: %q %v", r.Text, err)
	}
	// Other defaults are still there.
	if r, err := tm.Render(ChannelSlack, Message{ID: "x", Kind: KindKEVAlert, Data: SampleData(KindKEVAlert)}); err != nil || !strings.Contains(r.Text, "known exploited") {
		t.Fatalf("default lost: %v", err)
	}
	// A new kind.
	r, err = tm.Render(ChannelWebhook, Message{ID: "x", Kind: "scan_failed", Data: map[string]any{"Scan": "nightly", "Reason": "timeout"}})
	if err != nil || r.Subject != "Scan nightly failed" || r.Text != "Scan nightly failed: timeout\n" {
		t.Fatalf("new kind: %+v %v", r, err)
	}
	if _, err := tm.Render(ChannelEmail, Message{ID: "x", Kind: "scan_failed"}); err == nil {
		t.Fatal("missing email template must be an error")
	}
	// The sample check must not have made rendering strict.
	if _, err := tm.Render(ChannelSMS, Message{ID: "x", Kind: KindKEVAlert, Data: map[string]any{"Finding": map[string]any{}}}); err != nil {
		t.Fatalf("rendering with missing keys must stay lenient: %v", err)
	}
}

func TestLoadTemplatesRefusesBadTemplates(t *testing.T) {
	cases := map[string]struct{ file, src, want string }{
		"parse error":   {"kev_alert/slack.tmpl", "{{if .Finding}}unclosed", "kev_alert/slack.tmpl"},
		"unknown func":  {"sla_breach/email.txt.tmpl", "{{shout .Owner}}", "shout"},
		"html parse":    {"sla_breach/email.html.tmpl", "<a href=\"{{.Finding.URL}\">x</a>", "email.html.tmpl"},
		"missing field": {"sla_reminder/teams.tmpl", "{{.Finding.Nope}}", "Nope"},
		"unknown file":  {"sla_reminder/pager.tmpl", "x", "unrecognised"},
		"bad kind dir":  {"Bad Kind/sms.tmpl", "x", "invalid kind"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, c.file)
			_ = os.MkdirAll(filepath.Dir(p), 0o755)
			_ = os.WriteFile(p, []byte(c.src), 0o644)
			_, err := LoadTemplates(dir)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want mention of %q", err, c.want)
			}
		})
	}
	if _, err := LoadTemplates(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("missing directory accepted")
	}
}
