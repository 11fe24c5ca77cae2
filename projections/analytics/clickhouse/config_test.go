package clickhouse

import (
	"errors"
	"flag"
	"strings"
	"testing"
)

func errorsIs(err, target error) bool { return errors.Is(err, target) }

func TestConfig(t *testing.T) {
	var c Config
	fs := flag.NewFlagSet("soc", flag.ContinueOnError)
	c.RegisterFlags(fs)
	if err := fs.Parse([]string{"--clickhouse-url", "clickhouse://u:pw@127.0.0.1:9000/analytics"}); err != nil {
		t.Fatal(err)
	}
	if !c.Enabled() || c.Validate() != nil {
		t.Fatalf("%+v: enabled %v, %v", c, c.Enabled(), c.Validate())
	}
	if err := (&Config{}).Validate(); err != nil {
		t.Errorf("empty (embedded default): %v", err)
	}
	for _, bad := range []string{"http://127.0.0.1:8123", "clickhouse:///default", "clickhouse://u:pw@%zz"} {
		err := (&Config{URL: bad}).Validate()
		if err == nil || !strings.Contains(err.Error(), "--clickhouse-url/SOC_CLICKHOUSE_URL") || strings.Contains(err.Error(), "pw") {
			t.Errorf("Validate(%q) = %v, want an error naming the flag, not the password", bad, err)
		}
	}
}
