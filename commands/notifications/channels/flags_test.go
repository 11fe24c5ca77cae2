package channels

import (
	"flag"
	"io"
	"strings"
	"testing"
)

// parseFlags registers a channel's flags on a fresh set and parses args.
func parseFlags(t *testing.T, register func(*flag.FlagSet), args ...string) *flag.FlagSet {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return fs
}

// TestChannelFlagsHideSecrets: every credential is registered as a secret (so the command's
// binder also reads it from a file and never echoes it) and --help shows no value of it.
func TestChannelFlagsHideSecrets(t *testing.T) {
	var (
		smtp    SMTPConfig
		slack   SlackConfig
		teams   TeamsConfig
		webhook WebhookConfig
		sms     SMSConfig
	)
	fs := parseFlags(t, func(fs *flag.FlagSet) {
		smtp.RegisterFlags(fs)
		slack.RegisterFlags(fs)
		teams.RegisterFlags(fs)
		webhook.RegisterFlags(fs)
		sms.RegisterFlags(fs)
	}, "--smtp-password", "pw-SECRET", "--webhook-secret", "wh-SECRET", "--sms-auth-token", "tok-SECRET",
		"--slack-webhook-url", "https://hooks.slack.com/services/SECRET", "--teams-webhook-url", "https://teams.example.com/SECRET")
	for _, name := range []string{"smtp-password", "webhook-secret", "sms-auth-token", "slack-webhook-url", "teams-webhook-url"} {
		f := fs.Lookup(name)
		if s, ok := f.Value.(interface{ IsSecret() bool }); !ok || !s.IsSecret() {
			t.Errorf("--%s is not marked secret", name)
		}
		if strings.Contains(f.Value.String(), "SECRET") {
			t.Errorf("--%s prints its value", name)
		}
	}
	if smtp.Password != "pw-SECRET" || webhook.Secret != "wh-SECRET" || sms.AuthToken != "tok-SECRET" || !smtp.StartTLS {
		t.Fatalf("flags not applied: %v %v %v", smtp, webhook, sms)
	}
	var help strings.Builder
	fs.SetOutput(&help)
	fs.PrintDefaults()
	if strings.Contains(help.String(), "SECRET") {
		t.Fatalf("--help shows a secret:\n%s", help.String())
	}
}
