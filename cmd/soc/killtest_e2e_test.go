package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/scans/importers/trivy/trivytest"
)

// projectionLag reads the projections' positions and lags from a node's /readyz.
func projectionLag(addr string) (minPosition, maxLag int64, ok bool) {
	resp, err := testClient.Get("http://" + addr + "/readyz")
	if err != nil {
		return 0, 0, false
	}
	defer resp.Body.Close()
	var body struct {
		Checks struct {
			Projections map[string]struct {
				Position  int64 `json:"position"`
				LagEvents int64 `json:"lag_events"`
			} `json:"projections"`
		} `json:"checks"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || len(body.Checks.Projections) == 0 {
		return 0, 0, false
	}
	minPosition = -1
	for _, st := range body.Checks.Projections {
		if minPosition < 0 || st.Position < minPosition {
			minPosition = st.Position
		}
		maxLag = max(maxLag, st.LagEvents)
	}
	return minPosition, maxLag, true
}

// projectionsCaughtUp waits until no projection of the node at addr lags its store, for at most
// within.
func projectionsCaughtUp(addr string, within time.Duration) error {
	for deadline := time.Now().Add(within); ; time.Sleep(20 * time.Millisecond) {
		if _, lag, ok := projectionLag(addr); ok && lag == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the projections did not catch up within %v", within)
		}
	}
}

// TestProjectionKilledMidBatchEqualsRebuild kills the projection worker with SIGKILL while it is
// applying a large import, restarts it, and compares the read model it ends with to a full
// rebuild from the event store.
func TestProjectionKilledMidBatchEqualsRebuild(t *testing.T) {
	data := t.TempDir()
	env := []string{"SOC_DATA_DIR=" + data}
	report := trivytest.WriteFile(t, 8000, "registry.example/shop:1.0", trivytest.Options{})

	// The write side imports first, so that the worker then has a long backlog to apply.
	writer := startNode(t, env, "--target", "commands")
	importInto(t, writer, env, report)

	worker := startNode(t, env, "--target", "projections", "--projection-batch", "500")
	killed := false
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); {
		pos, lag, ok := projectionLag(worker.addr)
		if ok && pos > 0 && lag > 0 {
			if err := worker.cmd.Process.Kill(); err != nil { // SIGKILL: no shutdown, mid-batch
				t.Fatal(err)
			}
			<-worker.done
			killed = true
			t.Logf("killed the worker at position %d with %d events still to apply", pos, lag)
			break
		}
		if ok && lag == 0 && pos > 0 {
			t.Fatal("the worker caught up before it could be killed: make the import larger")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !killed {
		t.Fatalf("the worker never reported progress\n%s", worker.stderr)
	}

	// Restarted, it resumes from its last committed batch and catches up.
	worker = startNode(t, env, "--target", "projections")
	waitProgress(t, "the restarted worker to catch up", func() (bool, int64) {
		pos, lag, ok := projectionLag(worker.addr)
		return ok && lag == 0, pos
	})
	worker.stop(t)
	writer.stop(t)

	incremental, errOut, code := socCmd(t, env, "projections", "dump")
	if code != 0 {
		t.Fatalf("soc projections dump: %d %s", code, errOut)
	}
	if n := strings.Count(incremental, "\n"); n < 8000 {
		t.Fatalf("the dump has %d lines, want at least the 8000 findings", n)
	}
	if out, errOut, code := socCmd(t, env, "replay", "--projection", "all"); code != 0 {
		t.Fatalf("soc replay: %d %s %s", code, out, errOut)
	}
	rebuilt, errOut, code := socCmd(t, env, "projections", "dump")
	if code != 0 {
		t.Fatalf("soc projections dump after the rebuild: %d %s", code, errOut)
	}
	if incremental != rebuilt {
		a, b := strings.Split(incremental, "\n"), strings.Split(rebuilt, "\n")
		for i := 0; i < len(a) && i < len(b); i++ {
			if a[i] != b[i] {
				t.Fatalf("the read model after SIGKILL and restart differs from a full rebuild at line %d:\n killed+resumed %s\n rebuilt        %s", i+1, a[i], b[i])
			}
		}
		t.Fatalf("the read model after SIGKILL and restart differs from a full rebuild: %d vs %d lines", len(a), len(b))
	}
}

// uploadReport posts a report file to a node and returns the status and the scan id.
func uploadReport(t *testing.T, addr, path string) (int, string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	resp, err := testClient.Post("http://"+addr+"/v1/scans/imports?format=trivy", "application/json", f)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		ScanID string `json:"scan_id"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.ScanID
}

type importState struct {
	State string `json:"state"`
	Done  int    `json:"findings_done"`
	Error string `json:"error"`
}

func importStateOf(t *testing.T, addr, scanID string) importState {
	t.Helper()
	resp, err := testClient.Get("http://" + addr + "/v1/scans/" + scanID + "/import")
	if err != nil {
		return importState{}
	}
	defer resp.Body.Close()
	var st importState
	_ = json.NewDecoder(resp.Body).Decode(&st)
	return st
}

// waitImportsEnd waits (generously: race-built binary, busy machine) until every scan id has
// ended, and requires each completed.
func waitImportsEnd(t *testing.T, n *node, ids []string) {
	t.Helper()
	for _, id := range ids {
		deadline := time.Now().Add(5 * time.Minute)
		for {
			st := importStateOf(t, n.addr, id)
			if st.State == "completed" {
				break
			}
			if st.State == "failed" {
				t.Fatalf("accepted import %s failed after the restart: %s", id, st.Error)
			}
			if time.Now().After(deadline) {
				t.Fatalf("accepted import %s did not end after the restart (state %q)\n%s", id, st.State, n.stderr)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// requireSpoolEmpty: every import ended, so no spooled report may remain (the directory's id
// file stays).
func requireSpoolEmpty(t *testing.T, data string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(data, "spool"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "node-id" {
			t.Errorf("spool file left behind: %s", e.Name())
		}
	}
}

// requireNoDuplicates reads the store: every finding opened once, each import started and
// completed once, and no scan saw a finding twice. It returns the findings opened.
func requireNoDuplicates(t *testing.T, env []string, ids []string) int {
	t.Helper()
	evs, _ := tail(t, env)
	opened := map[string]int{}
	perScan := map[string]map[string]int{}
	seen := map[string]int{} // scan id + finding
	for _, e := range evs {
		var d struct {
			ScanID string `json:"scan_id"`
		}
		_ = json.Unmarshal(e.Data, &d)
		switch e.Type {
		case "FindingOpened":
			opened[e.StreamID]++
		case "FindingSeen":
			seen[d.ScanID+" "+e.StreamID]++
		case "ScanImportRequested", "ScanImportStarted", "ScanImportCompleted", "ScanImportFailed":
			if perScan[d.ScanID] == nil {
				perScan[d.ScanID] = map[string]int{}
			}
			perScan[d.ScanID][e.Type]++
		}
	}
	for id, c := range opened {
		if c != 1 {
			t.Errorf("finding %s opened %d times", id, c)
		}
	}
	for k, c := range seen {
		if c != 1 {
			t.Errorf("scan and finding %s: seen %d times", k, c)
		}
	}
	for _, id := range ids {
		if c := perScan[id]; c["ScanImportRequested"] != 1 || c["ScanImportStarted"] != 1 || c["ScanImportCompleted"] != 1 || c["ScanImportFailed"] != 0 {
			t.Errorf("import %s recorded %v", id, c)
		}
	}
	return len(opened)
}

// TestImportKilledMidImportResumes: SIGKILL while an accepted upload's findings are being
// recorded; the restarted node resumes it, it completes, the spool is empty and no finding is
// recorded twice.
func TestImportKilledMidImportResumes(t *testing.T) {
	data := t.TempDir()
	env := []string{"SOC_DATA_DIR=" + data}
	report := trivytest.WriteFile(t, 6000, "registry.example/killed:1.0", trivytest.Options{})
	n := startNode(t, env, "--target", "commands")
	code, id := uploadReport(t, n.addr, report)
	if code != http.StatusAccepted {
		t.Fatalf("upload: %d", code)
	}
	killed := false
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		st := importStateOf(t, n.addr, id)
		if st.State == "running" && st.Done > 0 {
			if err := n.cmd.Process.Kill(); err != nil { // SIGKILL: no shutdown, mid-import
				t.Fatal(err)
			}
			<-n.done
			killed = true
			t.Logf("killed the node with %d of 6000 findings recorded", st.Done)
			break
		}
		if st.State == "completed" || st.State == "failed" {
			t.Fatalf("the import ended (%s) before the node could be killed: make the report larger", st.State)
		}
	}
	if !killed {
		t.Fatalf("the import never reported progress\n%s", n.stderr)
	}

	n = startNode(t, env, "--target", "commands")
	waitImportsEnd(t, n, []string{id})
	n.stop(t)
	requireSpoolEmpty(t, data)
	if opened := requireNoDuplicates(t, env, []string{id}); opened != 6000 {
		t.Fatalf("%d findings opened, want the report's 6000", opened)
	}
}

// TestImportsQueuedAtSIGTERMResume: with the one worker busy and the queue full, another upload
// is refused before it is read (503); SIGTERM then stops the node with every accepted import
// still to do, and the next start completes them all.
func TestImportsQueuedAtSIGTERMResume(t *testing.T) {
	data := t.TempDir()
	env := []string{"SOC_DATA_DIR=" + data}
	n := startNode(t, env, "--target", "commands", "--import-workers", "1", "--import-queue", "3", "--shutdown-timeout", "2s")
	big := trivytest.WriteFile(t, 6000, "registry.example/busy:1.0", trivytest.Options{})
	code, first := uploadReport(t, n.addr, big)
	if code != http.StatusAccepted {
		t.Fatalf("upload: %d", code)
	}
	eventually(t, "the first import to run", func() bool { return importStateOf(t, n.addr, first).State == "running" })
	ids := []string{first}
	for i := 0; i < 3; i++ {
		code, id := uploadReport(t, n.addr, trivytest.WriteFile(t, 300, "registry.example/queued-"+string(rune('a'+i))+":1.0", trivytest.Options{}))
		if code != http.StatusAccepted {
			t.Fatalf("upload %d into a queue of 3: %d", i, code)
		}
		ids = append(ids, id)
	}
	if code, _ := uploadReport(t, n.addr, big); code != http.StatusServiceUnavailable {
		t.Fatalf("upload beyond the queue: %d, want 503", code)
	}
	entries, err := os.ReadDir(filepath.Join(data, "spool"))
	if err != nil || len(entries) != 1+len(ids) {
		t.Fatalf("spool after the refused upload: %d entries (%v), want the id file and the %d accepted reports", len(entries), err, len(ids))
	}
	n.stop(t) // SIGTERM

	n = startNode(t, env, "--target", "commands")
	waitImportsEnd(t, n, ids)
	n.stop(t)
	requireSpoolEmpty(t, data)
	if opened := requireNoDuplicates(t, env, ids); opened != 6000+3*300 {
		t.Fatalf("%d findings opened, want 6000 + 3×300", opened)
	}
}
