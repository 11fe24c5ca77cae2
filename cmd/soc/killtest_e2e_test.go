package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// projectionLag reads the projections' positions and lags from a node's /readyz.
func projectionLag(addr string) (minPosition, maxLag int64, ok bool) {
	resp, err := http.Get("http://" + addr + "/readyz")
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

// TestProjectionKilledMidBatchEqualsRebuild kills the projection worker with SIGKILL while it is
// applying a large import, restarts it, and compares the read model it ends with to a full
// rebuild from the event store.
func TestProjectionKilledMidBatchEqualsRebuild(t *testing.T) {
	data := t.TempDir()
	env := []string{"SOC_DATA_DIR=" + data}
	report := writeTrivy(t, 8000, "registry.example/shop:1.0")

	// The write side imports first, so that the worker then has a long backlog to apply.
	writer := startNode(t, env, "--target", "commands")
	if out, errOut, code := socCmd(t, env, "import", report, "--server", "http://"+writer.addr); code != 0 {
		t.Fatalf("soc import: %d %s %s", code, out, errOut)
	}

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
