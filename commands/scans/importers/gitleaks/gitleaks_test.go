package gitleaks

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
)

// secrets are the secrets of the samples (jq -r '.[].Secret // .[].offender' FILE), which no
// report may hold; REDACTED and the PKCS8 header are not secret.
var secrets = []string{
	"a secret", "aGVsbG8taS1hbS1hLXRlc3Qta2V5", "eor898q1luuq8054e0e5r9s3jh", "AKIAIOSFODNN7EXAMPLE",
	"hunter2-but-longer-example", "s3cr3t-value-0123",
}

// assertNoSecret fails when any of the report's text holds a secret of the samples.
func assertNoSecret(t *testing.T, rep *importers.Report) {
	t.Helper()
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if strings.Contains(string(b), s) {
			t.Errorf("the report holds the secret %q", s)
		}
	}
}

func parse(t *testing.T, in string) *importers.Report {
	t.Helper()
	rep := spec.MustParse(t, New(), in)
	assertNoSecret(t, rep)
	return rep
}

func TestSecretRedacted(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, formatName, "gitleaks_scb_test_report.json"))
	// jq -r '.[3] | .Secret, .Match' gives eor898q1luuq8054e0e5r9s3jh and api_key = '…'.
	if got, want := rep.Findings[3].Evidence, "Secret: eor8…[redacted, 26 characters]\nMatch: api_key = 'eor8…[redacted, 26 characters]'\n"; !strings.HasPrefix(got, want) {
		t.Errorf("evidence %q, want it to start with %q", got, want)
	}
	// A 5-character token shows one character, not four.
	if got := rep.Findings[2].Evidence; !strings.HasPrefix(got, "Secret: x…[redacted, 5 characters]\n") {
		t.Errorf("short secret: evidence %q", got)
	}
	for in, want := range map[string]string{
		"abc":      "…[redacted, 3 characters]",
		"é€😀x1234": "é€…[redacted, 8 characters]",
	} {
		if got := mask(in); got != want {
			t.Errorf("mask(%q) = %q, want %q", in, got, want)
		}
	}
	// Gitleaks 8.0 wrote the match as Context: it is evidence, redacted the same way.
	rep = parse(t, `[{"RuleID": "r", "File": "f", "StartLine": 1, "Secret": "s3cr3t-value-0123", "Context": "token = s3cr3t-value-0123"}]`)
	if ev := rep.Findings[0].Evidence; !strings.Contains(ev, "Match: token = s3cr…[redacted, 17 characters]") {
		t.Errorf("Context: evidence %q", ev)
	}
	// A match that does not contain the secret is masked whole: it may be all secret.
	rep = parse(t, `[{"RuleID": "r", "File": "f", "StartLine": 1, "Secret": "s3cr3t-value-0123", "Match": "AKIAIOSFODNN7EXAMPLE"}]`)
	if ev := rep.Findings[0].Evidence; !strings.Contains(ev, "Match: AKIA…[redacted, 20 characters]") {
		t.Errorf("evidence %q", ev)
	}
}

func TestFingerprints(t *testing.T) {
	fp := func(leaks ...string) []string {
		var out []string
		for _, f := range parse(t, "["+strings.Join(leaks, ",")+"]").Findings {
			out = append(out, f.Fingerprint)
		}
		return out
	}
	withFP := `{"RuleID": "r", "File": "f", "StartLine": %d, "Secret": "s3cr3t-value-0123", "Fingerprint": "c:f:r:1"}`
	if a, b := fp(fmt.Sprintf(withFP, 1)), fp(fmt.Sprintf(withFP, 9)); a[0] != b[0] {
		t.Error("with a Gitleaks fingerprint, ours depends on something else")
	}
	bySecret := `{"RuleID": "r", "File": "f", "Commit": "c", "StartLine": %d, "Secret": %q}`
	a := fp(fmt.Sprintf(bySecret, 1, "s3cr3t-value-0123"))[0]
	if a != fp(fmt.Sprintf(bySecret, 40, "s3cr3t-value-0123"))[0] {
		t.Error("without a Gitleaks fingerprint, moving the secret changed ours")
	}
	if a == fp(fmt.Sprintf(bySecret, 1, "another-secret-99"))[0] {
		t.Error("two secrets share a fingerprint")
	}
	if strings.Contains(a, "s3cr3t") {
		t.Error("fingerprint holds the secret")
	}
	redacted := `{"RuleID": "r", "File": "f", "Commit": "c", "StartLine": %d, "Secret": "REDACTED"}`
	if fp(fmt.Sprintf(redacted, 1))[0] == fp(fmt.Sprintf(redacted, 2))[0] {
		t.Error("redacted secrets on two lines share a fingerprint")
	}
	twice := fp(fmt.Sprintf(bySecret, 1, "s3cr3t-value-0123"), fmt.Sprintf(bySecret, 1, "s3cr3t-value-0123"))
	if twice[0] != a || twice[1] == a {
		t.Errorf("repeated leak: %q (alone %q)", twice, a)
	}
}

func TestGitleaks7(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, formatName, "gitleaks_7_repo_url.json"))
	f := rep.Findings[0]
	// jq '.[0] | [.rule, .file, .lineNumber, .tags, .leakURL]'
	if f.RuleID != "Generic Credential" || f.Location.Line != 27 || !strings.Contains(f.Description, "Tags: key, generic") ||
		len(f.References) != 1 || !strings.HasSuffix(f.References[0], "database.yml#L27") {
		t.Errorf("finding %+v", f)
	}
	if a := rep.Assets[0]; a.Key != "repo:https://example.org/acme/shop" || f.AssetKey != a.Key {
		t.Errorf("asset %+v, finding on %q", a, f.AssetKey)
	}
	if rep.Warnings != nil {
		t.Errorf("warnings %q", rep.Warnings)
	}
}

func TestEveryLeakIsHigh(t *testing.T) {
	info := New().(importers.Describer).Info()
	rep := parse(t, `[{"RuleID": "r", "File": "f", "StartLine": 1, "Tags": ["LOW"]}]`)
	if rep.Findings[0].Severity != importers.High || info.Severity["(every leak)"] != importers.High {
		t.Errorf("severity %q, documented %v", rep.Findings[0].Severity, info.Severity)
	}
}
