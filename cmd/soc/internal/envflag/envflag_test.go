package envflag

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

type settings struct {
	addr     string
	password string
	token    vaultToken
	batch    int
	wait     time.Duration
	tls      bool
	brokers  []string
}

func bind(t *testing.T, s *settings, args ...string) (*pflag.FlagSet, error) {
	t.Helper()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	fs.SetOutput(&bytes.Buffer{})
	envErr := Bind(fs, func(fs *flag.FlagSet) {
		fs.StringVar(&s.addr, "http", ":8080", "listen address")
		fs.Var(Secret(&s.password), "smtp-password", "mail password")
		fs.Var(&s.token, "vault-token", "a component's own secret type")
		fs.IntVar(&s.batch, "projection-batch", 1000, "batch")
		fs.DurationVar(&s.wait, "query-max-wait", 5*time.Second, "wait")
		fs.BoolVar(&s.tls, "smtp-starttls", true, "require STARTTLS")
		s.brokers = []string{"default:9092"}
		fs.Var(List(&s.brokers), "kafka-brokers", "brokers")
	}, map[string]string{"http": "SOC_HTTP_ADDR"})
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return fs, envErr
}

func TestVarName(t *testing.T) {
	for flagName, want := range map[string]string{"smtp-password": "SOC_SMTP_PASSWORD", "target": "SOC_TARGET", "http": "SOC_HTTP_ADDR"} {
		if got := VarName(flagName, map[string]string{"http": "SOC_HTTP_ADDR"}); got != want {
			t.Errorf("VarName(%q) = %q, want %q", flagName, got, want)
		}
	}
}

func TestFlagBeatsEnvironmentBeatsDefault(t *testing.T) {
	t.Setenv("SOC_HTTP_ADDR", ":9000")
	t.Setenv("SOC_PROJECTION_BATCH", "50")
	t.Setenv("SOC_KAFKA_BROKERS", "a:1, b:2")
	t.Setenv("SOC_SMTP_STARTTLS", "false")
	var s settings
	if _, err := bind(t, &s, "--http", ":7000", "--kafka-brokers", "c:3"); err != nil {
		t.Fatal(err)
	}
	if s.addr != ":7000" || s.batch != 50 || s.wait != 5*time.Second || s.tls || strings.Join(s.brokers, ";") != "c:3" {
		t.Fatalf("got %+v", s)
	}
}

func TestUnparsableEnvironmentIsReportedWithItsName(t *testing.T) {
	t.Setenv("SOC_PROJECTION_BATCH", "lots")
	t.Setenv("SOC_QUERY_MAX_WAIT", "soon")
	var s settings
	_, err := bind(t, &s)
	if err == nil {
		t.Fatal("no error for unparsable values")
	}
	for _, want := range []string{"SOC_PROJECTION_BATCH", `"lots"`, "SOC_QUERY_MAX_WAIT", "--query-max-wait"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s: %v", want, err)
		}
	}
}

func TestSecretFromFileNeverShown(t *testing.T) {
	const pw = "correct-horse-battery"
	file := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(file, []byte(pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOC_SMTP_PASSWORD_FILE", file)
	var s settings
	fs, err := bind(t, &s)
	if err != nil {
		t.Fatal(err)
	}
	if s.password != pw {
		t.Fatalf("password = %q, want the file's content without the newline", s.password)
	}
	var help bytes.Buffer
	fs.SetOutput(&help)
	fs.PrintDefaults()
	if strings.Contains(help.String(), pw) {
		t.Fatalf("--help shows the secret:\n%s", help.String())
	}
	if !strings.Contains(help.String(), "SOC_SMTP_PASSWORD_FILE") || !strings.Contains(help.String(), "(SOC_HTTP_ADDR)") {
		t.Fatalf("--help does not name the variables:\n%s", help.String())
	}

	// Both set is ambiguous; a missing file is reported by its variable.
	t.Setenv("SOC_SMTP_PASSWORD", pw)
	if _, err := bind(t, &s); err == nil || !strings.Contains(err.Error(), "set one, not both") || strings.Contains(err.Error(), pw) {
		t.Fatalf("both set: %v", err)
	}
	os.Unsetenv("SOC_SMTP_PASSWORD")
	t.Setenv("SOC_SMTP_PASSWORD_FILE", filepath.Join(t.TempDir(), "missing"))
	if _, err := bind(t, &s); err == nil || !strings.Contains(err.Error(), "SOC_SMTP_PASSWORD_FILE") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestHelpShowsBuiltInDefaultsNotEnvironment(t *testing.T) {
	t.Setenv("SOC_HTTP_ADDR", ":9999")
	var s settings
	fs, err := bind(t, &s)
	if err != nil {
		t.Fatal(err)
	}
	if d := fs.Lookup("http").DefValue; d != ":8080" {
		t.Fatalf("default shown = %q, want :8080", d)
	}
}

// TestPFlagTypesAndBooleans: the standard flags keep their behaviour on the pflag set: a boolean
// needs no value, and help names each value's type (a secret and a list by their own names).
func TestPFlagTypesAndBooleans(t *testing.T) {
	t.Setenv("SOC_SMTP_STARTTLS", "false")
	var s settings
	fs, err := bind(t, &s, "--smtp-starttls", "--projection-batch=7")
	if err != nil {
		t.Fatal(err)
	}
	if !s.tls || s.batch != 7 {
		t.Fatalf("--smtp-starttls without a value and --projection-batch=7: %+v", s)
	}
	for name, want := range map[string]string{"http": "string", "smtp-password": "secret", "vault-token": "secret", "kafka-brokers": "list", "query-max-wait": "duration", "smtp-starttls": "bool"} {
		if got := fs.Lookup(name).Value.Type(); got != want {
			t.Errorf("--%s has type %q, want %q", name, got, want)
		}
	}
}

// vaultToken is a secret value of a component's own type, as the notification channels declare.
type vaultToken string

func (v *vaultToken) Set(s string) error { *v = vaultToken(s); return nil }
func (v *vaultToken) String() string     { return "" }
func (v *vaultToken) IsSecret() bool     { return true }

func TestSplitPairs(t *testing.T) {
	got, err := SplitPairs(" a = 1 ,, b=x;y,c=")
	if err != nil || len(got) != 3 || got[0] != (Pair{"a", "1"}) || got[1] != (Pair{"b", "x;y"}) || got[2] != (Pair{"c", ""}) {
		t.Fatalf("%+v %v", got, err)
	}
	if got, err := SplitPairs(""); err != nil || len(got) != 0 {
		t.Fatalf("empty: %+v %v", got, err)
	}
	for _, bad := range []string{"a", "a=1,b", "=1"} {
		if _, err := SplitPairs(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
