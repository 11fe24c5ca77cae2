package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/socplatform/soc/cmd/soc/internal/syncbuf"
	"github.com/socplatform/soc/events/eventstest"
	"github.com/twmb/franz-go/pkg/kgo"
)

// These tests run the real binary as an operator would: start it, probe it over HTTP, stop it
// with SIGTERM, start it again, and read the log with `soc events tail`.

var socBin string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "soc-e2e")
	if err != nil {
		panic(err)
	}
	// Every node the tests and benchmarks start bootstraps the same admin.
	if err := setUpTestAuth(dir); err != nil {
		panic(err)
	}
	if f := flag.Lookup("test.run"); f != nil && f.Value.String() == "^$" {
		// Benchmarks only (make bench): they run the node in this process, no binary needed.
		code := m.Run()
		if benchSrv != nil {
			benchSrv.stop()
		}
		os.RemoveAll(dir)
		os.Exit(code)
	}
	socBin = filepath.Join(dir, "soc")
	build := exec.Command("go", "build", "-race", "-o", socBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building soc:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// requireServer returns the value of an integration-test variable, skipping when it is unset
// unless SOC_REQUIRE_SERVERS=1 (CI), where a missing server is a failure.
func requireServer(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		if os.Getenv("SOC_REQUIRE_SERVERS") == "1" {
			t.Fatalf("%s is not set but SOC_REQUIRE_SERVERS=1", name)
		}
		t.Skipf("%s not set: start the servers with `make deps-up` (make test does)", name)
	}
	return v
}

type node struct {
	cmd    *exec.Cmd
	addr   string
	stderr *syncbuf.Buffer // the node's log: written by the reader goroutine, read by failing tests
	done   chan error
}

func startNode(t *testing.T, env []string, args ...string) *node {
	t.Helper()
	return startNodeOf(t, socBin, env, args...)
}

// startNodeOf starts the soc binary at bin (startNode: the race-built one).
func startNodeOf(t *testing.T, bin string, env []string, args ...string) *node {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--http", "127.0.0.1:0"}, args...)...)
	// A node always gets a data directory of the test's own (snapshots, evidence) unless the test
	// names one: with PostgreSQL the default ./data would be written inside the source tree.
	cmd.Env = append(append(append(os.Environ(), "SOC_DATA_DIR="+t.TempDir()), nodeAuthEnv...), env...)
	pr, pw := io.Pipe()
	n := &node{cmd: cmd, stderr: &syncbuf.Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Bytes()
			n.stderr.Write(append(line, '\n'))
			var rec struct {
				Msg  string `json:"msg"`
				HTTP string `json:"http"`
			}
			if json.Unmarshal(line, &rec) == nil && rec.Msg == "soc serving" {
				addr <- rec.HTTP
			}
		}
	}()
	go func() { n.done <- cmd.Wait(); pw.Close() }()
	select {
	case n.addr = <-addr:
		forgetNode(n.addr)
	case err := <-n.done:
		t.Fatalf("soc serve exited before serving: %v\n%s", err, n.stderr)
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("soc serve did not start within 60s\n%s", n.stderr)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return n
}

func (n *node) stop(t *testing.T) {
	t.Helper()
	if err := n.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-n.done:
		if err != nil {
			t.Fatalf("soc serve exited with %v after SIGTERM\n%s", err, n.stderr)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("soc serve did not stop within 60s of SIGTERM\n%s", n.stderr)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := testClient.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func socCmd(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	return socCmdOf(t, socBin, env, args...)
}

// socCmdOf runs the soc binary at bin (socCmd: the race-built one).
func socCmdOf(t *testing.T, bin string, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), testEnv(env, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// importInto runs `soc import REPORT --server` of node n with flags and returns what it prints;
// a failed import fails the test with the node's log.
func importInto(t *testing.T, n *node, env []string, report string, flags ...string) string {
	t.Helper()
	out, errOut, code := socCmd(t, env, append([]string{"import", report, "--server", "http://" + n.addr}, flags...)...)
	if code != 0 {
		t.Fatalf("soc import %s exited %d: %s %s\n%s", report, code, out, errOut, n.stderr)
	}
	return out
}

// tailed is an envelope as `soc events tail` prints it.
type tailed struct {
	Type           string          `json:"type"`
	StreamID       string          `json:"stream_id"`
	Version        int64           `json:"version"`
	GlobalPosition int64           `json:"global_position"`
	OccurredAt     time.Time       `json:"occurred_at"`
	RecordedAt     time.Time       `json:"recorded_at"`
	Data           json.RawMessage `json:"data"`
}

func tail(t *testing.T, env []string, args ...string) ([]tailed, []string) {
	t.Helper()
	out, errOut, code := socCmd(t, env, append([]string{"events", "tail"}, args...)...)
	if code != 0 {
		t.Fatalf("soc events tail exited %d: %s", code, errOut)
	}
	var evs []tailed
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, l := range lines {
		if l == "" {
			continue
		}
		var e tailed
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("tail printed a line that is not JSON: %q", l)
		}
		evs = append(evs, e)
	}
	return evs, lines
}

// lifecycle checks one backend: serve, probe, SIGTERM, serve again, and the log keeps everything.
// The counts leave out the identity context's events: the test seam's bootstrap admin and its
// sign-ins (testclient_test.go), not the node's lifecycle.
func lifecycle(t *testing.T, env []string, args []string, tailArgs []string) []tailed {
	tailNode := func() ([]tailed, []string) {
		evs, lines := tail(t, env, tailArgs...)
		return withoutIdentity(evs), lines
	}
	before, _ := tailNode()

	n := startNode(t, env, args...)
	if code, body := get(t, "http://"+n.addr+"/healthz"); code != 200 || !strings.Contains(body, `"ok"`) {
		t.Fatalf("/healthz: %d %s", code, body)
	}
	if code, body := get(t, "http://"+n.addr+"/readyz"); code != 200 || !strings.Contains(body, "head_position") {
		t.Fatalf("/readyz: %d %s", code, body)
	}
	if code, body := get(t, "http://"+n.addr+"/metrics"); code != 200 || !strings.Contains(body, "soc_event_store_head_position") {
		t.Fatalf("/metrics: %d, missing the store gauge", code)
	}
	if code, body := get(t, "http://"+n.addr+"/v1/nothing-here"); code != 404 || !strings.Contains(body, `"status":404`) {
		t.Fatalf("unknown route: %d %s, want a problem+json 404", code, body)
	}
	n.stop(t)
	first, firstLines := tailNode()
	if len(first) != len(before)+2 || first[len(first)-2].Type != "NodeStarted" || first[len(first)-1].Type != "NodeStopped" {
		t.Fatalf("after one run the log holds %d events (had %d), want NodeStarted and NodeStopped appended: %+v", len(first), len(before), first)
	}

	n2 := startNode(t, env, args...)
	n2.stop(t)
	second, secondLines := tailNode()
	if len(second) != len(first)+2 {
		t.Fatalf("after a restart the log holds %d events, want %d", len(second), len(first)+2)
	}
	for i := range firstLines {
		if firstLines[i] != secondLines[i] {
			t.Fatalf("event %d changed across a restart:\n before %s\n after  %s", i, firstLines[i], secondLines[i])
		}
	}
	// `soc events stream` shows the node's own stream.
	out, errOut, code := socCmd(t, env, append([]string{"events", "stream", second[len(second)-1].StreamID}, tailArgs...)...)
	if code != 0 || strings.Count(out, "\n") != 2 || !strings.Contains(out, "NodeStopped") {
		t.Fatalf("soc events stream: exit %d, %q %s", code, out, errOut)
	}
	return second[len(before):]
}

// withoutIdentity is evs without the identity context's events.
func withoutIdentity(evs []tailed) []tailed {
	out := evs[:0:0]
	for _, e := range evs {
		if !strings.HasPrefix(e.StreamID, "identity-") {
			out = append(out, e)
		}
	}
	return out
}

func TestServeEmbeddedSurvivesRestart(t *testing.T) {
	data := t.TempDir()
	lifecycle(t, nil, []string{"--data", data}, []string{"--data", data})
}

func TestServePostgresAndKafka(t *testing.T) {
	pgURL := requireServer(t, "SOC_TEST_POSTGRES_URL")
	brokers := requireServer(t, "SOC_TEST_KAFKA_BROKERS")
	suffix := randomSuffix()
	schema, prefix := "e2e_"+suffix, "e2e"+suffix
	env := []string{"SOC_POSTGRES_URL=" + pgURL, "SOC_POSTGRES_SCHEMA=" + schema,
		"SOC_KAFKA_BROKERS=" + brokers, "SOC_KAFKA_TOPIC_PREFIX=" + prefix}
	t.Cleanup(func() { dropSchema(t, pgURL, schema) })
	evs := lifecycle(t, env, nil, nil)

	// Graceful shutdown drains the relay: all four node events, NodeStopped included, are in Kafka.
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...),
		kgo.ConsumeTopics(prefix+".monitoring.events"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got := map[string]bool{}
	for len(got) < len(evs) && ctx.Err() == nil {
		fetches := cl.PollFetches(ctx)
		fetches.EachRecord(func(r *kgo.Record) {
			for _, h := range r.Headers {
				if h.Key == "global_position" {
					got[string(h.Value)] = true
				}
			}
		})
	}
	for _, e := range evs {
		if !got[fmt.Sprint(e.GlobalPosition)] {
			t.Errorf("event %s at position %d was not relayed to Kafka before shutdown", e.Type, e.GlobalPosition)
		}
	}
}

func TestInvalidConfigurationIsReportedAtOnce(t *testing.T) {
	_, errOut, code := socCmd(t, []string{"SOC_KAFKA_BROKERS="}, "serve", "--http", "nonsense", "--target", "relay,bogus", "--log-level", "loud", "--postgres-url", "mysql://x")
	if code != 2 {
		t.Fatalf("exit code %d, want 2", code)
	}
	for _, want := range []string{"--http", "unknown target \"bogus\"", "target \"relay\" needs", "--log-level", "--postgres-url"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("configuration error does not mention %s:\n%s", want, errOut)
		}
	}
	if strings.Contains(errOut, "mysql://x") {
		t.Error("the error echoes the database URL (it may carry a password)")
	}
}

func TestListTargets(t *testing.T) {
	out, _, code := socCmd(t, nil, "serve", "--list-targets")
	if code != 0 || !strings.Contains(out, "all") || !strings.Contains(out, "relay") {
		t.Fatalf("--list-targets: %d %q", code, out)
	}
}

// postgresKafkaEnv is the environment of a node on the test servers: the PostgreSQL event store
// and read models in schemas of its own (dropped when the test ends) and Kafka topics of its own,
// all named after name and a random suffix. It skips without those servers (see requireServer).
func postgresKafkaEnv(t *testing.T, name string) []string {
	t.Helper()
	pgURL := requireServer(t, "SOC_TEST_POSTGRES_URL")
	brokers := requireServer(t, "SOC_TEST_KAFKA_BROKERS")
	suffix := randomSuffix()
	schema, readSchema, prefix := name+"_"+suffix, name+"_read_"+suffix, name+suffix
	t.Cleanup(func() { dropSchema(t, pgURL, schema); dropSchema(t, pgURL, readSchema) })
	return []string{"SOC_POSTGRES_URL=" + pgURL, "SOC_POSTGRES_SCHEMA=" + schema, "SOC_READ_SCHEMA=" + readSchema,
		"SOC_KAFKA_BROKERS=" + brokers, "SOC_KAFKA_TOPIC_PREFIX=" + prefix}
}

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func dropSchema(t *testing.T, url, schema string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Logf("dropping schema %s: %v", schema, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
		t.Logf("dropping schema %s: %v", schema, err)
	}
}

func TestCVSSCommand(t *testing.T) {
	out, errOut, code := socCmd(t, nil, "cvss", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("want one JSON object per vector, got %q", out)
	}
	var v31, v40 map[string]any
	if json.Unmarshal([]byte(lines[0]), &v31) != nil || json.Unmarshal([]byte(lines[1]), &v40) != nil {
		t.Fatalf("not JSON: %q", out)
	}
	if v31["base_score"] != 9.8 || v31["severity"] != "Critical" || v31["temporal_score"] != 9.0 || v31["version"] != "3.1" {
		t.Errorf("v3.1 result %v", v31)
	}
	if v40["base_score"] != 9.3 || v40["severity"] != "Critical" || v40["nomenclature"] != "CVSS-B" {
		t.Errorf("v4.0 result %v", v40)
	}
	_, errOut, code = socCmd(t, nil, "cvss", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:X")
	if code != 2 || !strings.Contains(errOut, "metric A") {
		t.Fatalf("invalid vector: exit %d, %q; want 2 naming metric A", code, errOut)
	}
}

// sharedTestdata is ../shared/testdata beside the repository (eventstest.SharedTestdata).
func sharedTestdata(t *testing.T) string {
	t.Helper()
	return eventstest.SharedTestdata(t)
}

type importSummary struct {
	ScanID        string         `json:"scan_id"`
	Format        string         `json:"format"`
	FindingsTotal int            `json:"findings_total"`
	BySeverity    map[string]int `json:"by_severity"`
	New           int            `json:"new"`
	Unchanged     int            `json:"unchanged"`
	Reopened      int            `json:"reopened"`
	Resolved      int            `json:"resolved"`
	Assets        int            `json:"assets_discovered"`
}

// TestImportThroughTheServer: `soc import` uploads a real Trivy report to a running node, waits,
// and prints the summary; importing it again changes nothing but last-seen times.
func TestImportThroughTheServer(t *testing.T) {
	report := filepath.Join(sharedTestdata(t), "trivy", "trivy_image_juice-shop-v12.10.2.json")
	data := t.TempDir()
	n := startNode(t, nil, "--data", data)
	importOnce := func() importSummary {
		t.Helper()
		out := importInto(t, n, nil, report)
		var s importSummary
		if err := json.Unmarshal([]byte(out), &s); err != nil || strings.Count(strings.TrimSpace(out), "\n") != 0 {
			t.Fatalf("soc import must print one JSON object, got %q", out)
		}
		return s
	}
	first := importOnce()
	sev := 0
	for _, c := range first.BySeverity {
		sev += c
	}
	if first.Format != "trivy" || first.FindingsTotal != 185 || first.New != 185 || sev != 185 || first.Assets != 1 {
		t.Fatalf("first import: %+v", first)
	}
	second := importOnce()
	if second.New != 0 || second.Unchanged != 185 || second.Resolved != 0 || second.Reopened != 0 || second.ScanID == first.ScanID {
		t.Fatalf("re-import of the same report: %+v", second)
	}
	// A finding command through the API: triage one of the imported findings, then a transition
	// the lifecycle does not allow is refused with 409 naming /status.
	evs, _ := tail(t, nil, "--data", data)
	var opened []string
	for _, e := range evs {
		if e.Type == "FindingOpened" {
			opened = append(opened, e.StreamID)
		}
	}
	if len(opened) < 2 {
		t.Fatal("the import recorded fewer than two FindingOpened")
	}
	finding := opened[0]
	postJSON := func(path, body string) (int, map[string]any) {
		resp, err := testClient.Post("http://"+n.addr+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	if code, body := postJSON("/v1/findings/"+finding+"/resolve", `{"reason":"patched in 12.10.3"}`); code != 200 || body["version"] == nil {
		t.Fatalf("resolve: %d %v", code, body)
	}
	if code, body := postJSON("/v1/findings/"+finding+"/triage", `{}`); code != 409 || body["field"] != "/status" {
		t.Fatalf("triage of a resolved finding: %d %v, want 409 naming /status", code, body)
	}
	// A risk acceptance reopens its finding when it expires (the finding_deadlines saga's timer).
	expires := time.Now().Add(1500 * time.Millisecond).UTC().Format(time.RFC3339Nano)
	if code, body := postJSON("/v1/findings/"+opened[1]+"/accept-risk", `{"approver":"ciso","justification":"WAF rule 942100","expires_at":"`+expires+`"}`); code != 200 {
		t.Fatalf("accept-risk: %d %v", code, body)
	}
	// The sagas first work through both imports' 185 findings (deadline timers for each); under
	// -race on a loaded 2-core machine that alone took more than 20 s, so the bound is generous:
	// the loop ends as soon as the finding is reopened.
	for deadline := time.Now().Add(2 * time.Minute); ; {
		out, _, _ := socCmd(t, nil, "events", "stream", opened[1], "--data", data)
		if strings.Contains(out, `"FindingReopened"`) && strings.Contains(out, "risk acceptance expired") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the expired risk acceptance did not reopen the finding:\n%s", out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The CVE catalogue: the KEV feed imports from the CLI while the node runs.
	kev := filepath.Join(sharedTestdata(t), "kev", "known_exploited_vulnerabilities_2025.08.25.json")
	out, errOut, code := socCmd(t, nil, "feeds", "--data", data, "import", "kev", kev)
	var fs map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &fs) != nil || fs["records"] != 1404.0 {
		t.Fatalf("soc feeds import kev: exit %d, %q %s", code, out, errOut)
	}
	// A file that is no scanner report is refused with a clear message, and nothing else happens.
	bogus := filepath.Join(t.TempDir(), "notes.txt")
	_ = os.WriteFile(bogus, []byte("just some notes"), 0o600)
	_, errOut, code = socCmd(t, nil, "import", bogus, "--server", "http://"+n.addr)
	if code == 0 || !strings.Contains(errOut, "failed") {
		t.Fatalf("importing a non-report: exit %d, %q", code, errOut)
	}
	n.stop(t)
}
