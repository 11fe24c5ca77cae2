package main

import (
	"bytes"
	"strings"
	"testing"
)

// socRun runs the CLI in this process, as main does.
func socRun(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return out.String(), errOut.String(), code
}

// TestCommandLineExitCodes: help is on stdout with 0; an incomplete or wrong command line is
// refused on stderr with 2, naming the command and how to get its help.
func TestCommandLineExitCodes(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string // substring, "" for nothing printed
		stderr string
	}{
		{[]string{"--help"}, 0, "Available Commands", ""},
		{[]string{"help"}, 0, "projections", ""},
		{[]string{"version"}, 0, "dev\n", ""},
		{[]string{"--version"}, 0, "dev\n", ""},
		{nil, 2, "", "Available Commands"},
		{[]string{"events"}, 2, "", "tail"},
		{[]string{"bogus"}, 2, "", `soc: unknown command "bogus"`},
		{[]string{"events", "tail", "--bogus"}, 2, "", "soc events tail: unknown flag: --bogus\nRun 'soc events tail --help' for usage."},
		{[]string{"events", "tail", "--from", "-1"}, 2, "", "soc events tail: --from and --limit must not be negative"},
		{[]string{"events", "stream"}, 2, "", "soc events stream: accepts 1 arg(s), received 0"},
		{[]string{"projections", "skip", "findings", "--event", "e1"}, 2, "", `required flag(s) "reason" not set`},
		{[]string{"projections", "skip", "findings", "--event", "e1", "--reason", " "}, 2, "", "--event and --reason must not be empty"},
		{[]string{"projections", "retry", "all"}, 2, "", "soc projections retry: name one projection, not all"},
		{[]string{"replay"}, 2, "", `required flag(s) "projection" not set`},
		{[]string{"replay", "--projection", "nope"}, 2, "", `soc replay: unknown projection "nope"`},
		{[]string{"sagas", "list", "--saga", "Not A Saga"}, 2, "", `soc sagas list: --saga "Not A Saga" is not a saga name`},
		{[]string{"cvss"}, 2, "", "requires at least 1 arg(s)"},
		{[]string{"import", "report.json", "--server", "ftp://x"}, 2, "", `soc import: --server "ftp://x" is not an http(s) URL`},
		{[]string{"feeds", "import", "kev"}, 2, "", "soc feeds import: accepts 2 arg(s), received 1"},
		{[]string{"serve", "--list-targets", "extra"}, 2, "", `unknown command "extra" for "soc serve"`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, errOut, code := socRun(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, errOut)
			}
			if tc.stdout == "" && out != "" || !strings.Contains(out, tc.stdout) {
				t.Errorf("stdout %q, want it to contain %q", out, tc.stdout)
			}
			if tc.stderr == "" && errOut != "" || !strings.Contains(errOut, tc.stderr) {
				t.Errorf("stderr %q, want it to contain %q", errOut, tc.stderr)
			}
		})
	}
}

// TestEveryCommandHasHelp: each sub-command answers --help with its own usage and flags, the
// store's flags naming their SOC_* variables.
func TestEveryCommandHasHelp(t *testing.T) {
	for cmd, wants := range map[string][]string{
		"serve":              {"soc serve [flags]", "--list-targets", "--target list", "(SOC_TARGET)"},
		"events tail":        {"soc events tail [flags]", "--from int", "--follow", "--data string", "(SOC_DATA_DIR)"},
		"events stream":      {"soc events stream STREAM_ID", "--backwards", "--as-of string"},
		"import":             {"soc import FILE", "--format string", "(SOC_SERVER)", "--timeout duration"},
		"feeds import":       {"soc feeds import nvd|kev|epss FILE", "--data string"},
		"projections status": {"--json", "--read-schema string", "(SOC_READ_SCHEMA)"},
		"projections retry":  {"soc projections retry NAME", "--actor string"},
		"projections skip":   {"--event string", "--reason string"},
		"projections dump":   {"soc projections dump [NAME|all]"},
		"replay":             {"--projection string", "(SOC_PROJECTION_BATCH)"},
		"sagas list":         {"--saga string", "--json"},
		"sagas show":         {"soc sagas show INSTANCE_STREAM_ID | SAGA KEY"},
		"cvss":               {"soc cvss VECTOR…"},
		"completion bash":    {"bash"},
	} {
		out, errOut, code := socRun(t, append(strings.Fields(cmd), "--help")...)
		if code != 0 {
			t.Errorf("soc %s --help: exit %d, %s", cmd, code, errOut)
		}
		for _, w := range wants {
			if !strings.Contains(out, w) {
				t.Errorf("soc %s --help does not mention %q:\n%s", cmd, w, out)
			}
		}
	}
}

// TestCompletion: cobra's completion scripts, and completion of projection names.
func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		if out, errOut, code := socRun(t, "completion", shell); code != 0 || !strings.Contains(out, "soc") {
			t.Errorf("soc completion %s: exit %d, %d bytes, %s", shell, code, len(out), errOut)
		}
	}
	out, _, code := socRun(t, "__complete", "replay", "--projection", "")
	if code != 0 || !strings.Contains(out, "findings\n") || !strings.Contains(out, "all\n") {
		t.Fatalf("completing --projection: exit %d, %q", code, out)
	}
}

// TestToolsOnAnEmptyStore runs the operator tools in-process on a fresh data directory: they
// open the store (and the read models), answer, and exit with their documented codes.
func TestToolsOnAnEmptyStore(t *testing.T) {
	data := t.TempDir()
	if out, errOut, code := socRun(t, "events", "tail", "--data", data); code != 0 || out != "" {
		t.Fatalf("events tail on an empty store: exit %d, %q %s", code, out, errOut)
	}
	// Flags may follow or precede the arguments.
	if _, errOut, code := socRun(t, "events", "stream", "--data", data, "assets-x"); code != 1 || !strings.Contains(errOut, "soc events stream: stream assets-x not found") {
		t.Fatalf("events stream of a missing stream: exit %d, %s", code, errOut)
	}
	if _, errOut, code := socRun(t, "projections", "status", "findings", "nope", "--data", data); code != 2 || !strings.Contains(errOut, `soc projections status: unknown projection "nope"`) {
		t.Fatalf("projections status of an unknown projection: exit %d, %s", code, errOut)
	}
	if _, errOut, code := socRun(t, "sagas", "show", "new_findings", "scan-x", "--data", data); code != 3 || !strings.Contains(errOut, "soc sagas show: ") {
		t.Fatalf("sagas show of a missing instance: exit %d, %s", code, errOut)
	}
	t.Setenv("SOC_SQLITE_SYNCHRONOUS", "SOMETIMES")
	if _, errOut, code := socRun(t, "sagas", "list", "--data", data); code != 2 || !strings.Contains(errOut, "soc sagas list: invalid configuration:\n  --sqlite-synchronous/SOC_SQLITE_SYNCHRONOUS") {
		t.Fatalf("an invalid environment: exit %d, %s", code, errOut)
	}
}
