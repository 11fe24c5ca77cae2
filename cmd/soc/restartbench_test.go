package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/scans/importers/trivy/trivytest"
)

// BenchmarkRestart measures how long a node takes from exec to /readyz 200, and its peak RSS
// (VmHWM) at that moment, over a store holding SOC_BENCH_FINDINGS findings (default 100,000):
// with the lookups restored from their snapshots (what a node does) beside the full replay of
// $all that every start did before them (--snapshot-dir off), alternating, in the same run.
// The node runs the commands target, the one whose start loads the lookups. Figures are the
// medians of three starts of each; nothing is asserted on them.
func BenchmarkRestart(b *testing.B) {
	dir := b.TempDir()
	bin := filepath.Join(dir, "soc")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		b.Fatalf("building soc: %v", err)
	}
	data := filepath.Join(dir, "data")
	n := benchFindings()

	// The store: one node imports the generated report and stops, writing its snapshots.
	first := startRestartNode(b, bin, data, "")
	report := trivytest.WriteFile(b, n, "registry.example/restart:1", trivytest.Options{})
	start := time.Now()
	b.Setenv("SOC_TOKEN", bearerFor(first.addr, false)) // the bootstrap admin's (nodeAuthEnv)
	if code := run([]string{"import", report, "--server", "http://" + first.addr}, io.Discard, os.Stderr); code != 0 {
		b.Fatalf("import exited %d", code)
	}
	fmt.Fprintf(os.Stderr, "restart bench: %d findings imported in %s\n", n, time.Since(start).Round(time.Millisecond))
	first.stop(b)
	if _, err := os.Stat(filepath.Join(data, "snapshots", "scans-importer.snap")); err != nil {
		b.Fatalf("the node wrote no snapshot at shutdown: %v", err)
	}

	var ready, rss, replayReady, replayRSS []float64
	for b.Loop() {
		for i := 0; i < 3; i++ {
			// The old start: no snapshots, the whole history replayed.
			old := startRestartNode(b, bin, data, "off")
			replayReady, replayRSS = append(replayReady, old.readyMS), append(replayRSS, old.hwmMB)
			old.stop(b)
			// The new start: snapshots, then only the events after them.
			cur := startRestartNode(b, bin, data, "")
			ready, rss = append(ready, cur.readyMS), append(rss, cur.hwmMB)
			cur.stop(b)
		}
	}
	b.ReportMetric(median(ready), "ready-ms")
	b.ReportMetric(median(replayReady), "replay-ready-ms")
	b.ReportMetric(median(rss), "peak-rss-MB")
	b.ReportMetric(median(replayRSS), "replay-peak-rss-MB")
}

type restartNode struct {
	cmd     *exec.Cmd
	addr    string
	readyMS float64 // exec to the first /readyz 200
	hwmMB   float64 // VmHWM when ready
}

// startRestartNode starts `soc serve --target=commands` on data and waits for /readyz 200.
// snapshotDir is passed as SOC_SNAPSHOT_DIR ("" for the default, "off" for none).
func startRestartNode(b *testing.B, bin, data, snapshotDir string) *restartNode {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "serve", "--http", addr, "--data", data, "--target", "commands", "--log-level", "warn",
		"--max-import-bytes", strconv.Itoa(1<<30), "--shutdown-timeout", "5m")
	cmd.Env = append(append(os.Environ(), nodeAuthEnv...), "SOC_SNAPSHOT_DIR="+snapshotDir)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	began := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	n := &restartNode{cmd: cmd, addr: addr}
	client := &http.Client{Timeout: 5 * time.Second}
	for {
		if resp, err := client.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Since(began) > 10*time.Minute {
			_ = cmd.Process.Kill()
			b.Fatal("soc serve was not ready within 10 minutes")
		}
		time.Sleep(5 * time.Millisecond)
	}
	n.readyMS = float64(time.Since(began).Microseconds()) / 1000
	n.hwmMB = vmHWM(b, cmd.Process.Pid)
	return n
}

func (n *restartNode) stop(b *testing.B) {
	b.Helper()
	if err := n.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		b.Fatal(err)
	}
	if err := n.cmd.Wait(); err != nil {
		b.Fatalf("soc serve exited with %v after SIGTERM", err)
	}
}

// vmHWM reads a process's peak resident set size, in MB.
func vmHWM(b *testing.B, pid int) float64 {
	b.Helper()
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range strings.Split(string(st), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb / 1024
		}
	}
	b.Fatal("no VmHWM in /proc/<pid>/status")
	return 0
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}
