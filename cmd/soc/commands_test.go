package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSLAPolicyFile(t *testing.T) {
	write := tempFiles(t)
	p, err := loadSLAPolicy(write("ok.json", `{"days":{"critical":5,"high":20},"by_criticality":{"critical":{"critical":2}}}`))
	if err != nil {
		t.Fatal(err)
	}
	opened := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if due, ok := p.DueAt("critical", "critical", opened); !ok || due.Day() != 3 {
		t.Fatalf("critical on a critical asset due %v", due)
	}
	if _, ok := p.DueAt("medium", "", opened); ok {
		t.Fatal("a severity the policy leaves out got a due date")
	}
	for name, body := range map[string]string{
		"unknown field":    `{"days":{"critical":5},"weeks":{}}`,
		"unknown severity": `{"days":{"urgent":5}}`,
		"negative days":    `{"days":{"high":-1}}`,
		"not json":         `{`,
	} {
		if _, err := loadSLAPolicy(write(strings.ReplaceAll(name, " ", "_")+".json", body)); err == nil || !strings.Contains(err.Error(), "SOC_SLA_POLICY") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if p, err := loadSLAPolicy(""); err != nil || p != nil {
		t.Fatalf("no file: %v %v", p, err)
	}
}

// tempFiles returns a function writing files into a fresh temporary directory; it returns
// each file's path.
func tempFiles(t *testing.T) func(name, content string) string {
	dir := t.TempDir()
	return func(name, content string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
}
