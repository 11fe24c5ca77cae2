package runner_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/commands/scans/domain"
	"github.com/socplatform/soc/commands/scans/importers/nmap"
	"github.com/socplatform/soc/commands/scans/runner"
)

func requireNmap(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("nmap")
	if err != nil {
		if os.Getenv("SOC_REQUIRE_SERVERS") == "1" {
			t.Fatal("nmap is required (SOC_REQUIRE_SERVERS=1): install the Debian package nmap")
		}
		t.Skip("nmap is not installed")
	}
	return p
}

// dlinkBackdoor mimics the D-Link firmware backdoor that nmap's stock http-dlink-backdoor
// script detects: the admin page answers 401 unless the magic User-Agent is sent.
func dlinkBackdoor(t *testing.T) (port string) {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "thttpd-alphanetworks/2.23")
		if r.UserAgent() == "xmlset_roodkcableoj28840ybtide" {
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("<html><body>admin</body></html>"))
			return
		}
		// Exactly the router's header lines, in its order and spelling, so that nmap's service
		// detection (nmap-service-probes: thttpd-alphanetworks … realm="DI-…") calls it http
		// and the script's portrule (shortport.http) runs on a random port. Go writes handler
		// headers sorted and first, before Date and Content-Length.
		w.Header()["WWW-Authenticate"] = []string{`Basic realm="DI-524"`}
		w.WriteHeader(http.StatusUnauthorized)
	}))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	_, port, _ = net.SplitHostPort(l.Addr().String())
	return port
}

// A real nmap against a loopback server finds the backdoor, and the stock importer reads it.
func TestRealNmapFindsTheDLinkBackdoor(t *testing.T) {
	requireNmap(t)
	port := dlinkBackdoor(t)
	r := runner.New(runner.Config{})
	xml, argv, err := r.Run(context.Background(), runner.Spec{Targets: []string{"127.0.0.1"},
		Options: domain.NmapOptions{Ports: port, ServiceDetection: true, Scripts: []string{"http-dlink-backdoor"}}})
	if err != nil {
		t.Fatalf("nmap %v: %v", argv, err)
	}
	if !slices.Contains(argv, "--") || argv[len(argv)-1] != "127.0.0.1" {
		t.Fatalf("argv %v", argv)
	}
	rep, err := testsupport.ParseString(nmap.New(), string(xml))
	if err != nil {
		t.Fatalf("parsing nmap's XML: %v\n%s", err, xml)
	}
	var hits []string
	for _, f := range rep.Findings {
		if f.Severity == "high" {
			hits = append(hits, f.Title)
			if strconv.Itoa(f.Location.Port) != port {
				t.Errorf("finding on port %d, want %s", f.Location.Port, port)
			}
		}
	}
	if len(rep.Findings) != 1 || len(hits) != 1 {
		t.Fatalf("findings %+v, want exactly one high", rep.Findings)
	}
}

func TestArgvFromValidatedOptionsOnly(t *testing.T) {
	r := runner.New(runner.Config{Path: "nmap", DataDir: t.TempDir()})
	timing := 4
	argv, err := r.Argv([]string{"127.0.0.1", "::1"}, domain.NmapOptions{Ports: "T:80,443,1000-2000", Scripts: []string{"safe"},
		ServiceDetection: true, Timing: &timing, HostTimeoutSeconds: 30})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"nmap", "-oX", "-", "--noninteractive", "-sT", "-Pn", "-n", "-p", "T:80,443,1000-2000", "-sV", "--version-light",
		"--script", "safe", "-T4", "--host-timeout", "30s", "--", "127.0.0.1", "::1"}
	if !slices.Equal(argv, want) {
		t.Fatalf("argv\n%v\nwant\n%v", argv, want)
	}
	bad := []struct {
		name string
		o    domain.NmapOptions
		path string
	}{
		{"option in ports", domain.NmapOptions{Ports: "80 -iL /etc/passwd"}, "/options/ports"},
		{"port zero", domain.NmapOptions{Ports: "0-80"}, "/options/ports"},
		{"port too big", domain.NmapOptions{Ports: "65536"}, "/options/ports"},
		{"script args", domain.NmapOptions{Scripts: []string{"http-title --script-args=x"}}, "/options/scripts/0"},
		{"script path", domain.NmapOptions{Scripts: []string{"../../etc/passwd"}}, "/options/scripts/0"},
		{"unknown script", domain.NmapOptions{Scripts: []string{"no-such-script"}}, "/options/scripts/0"},
		{"intrusive category", domain.NmapOptions{Scripts: []string{"default", "intrusive"}}, "/options/scripts/1"},
		{"timing", domain.NmapOptions{Timing: ptr(6)}, "/options/timing"},
		{"host timeout", domain.NmapOptions{HostTimeoutSeconds: -1}, "/options/host_timeout_seconds"},
	}
	for _, tc := range bad {
		argv, err := r.Argv([]string{"127.0.0.1"}, tc.o)
		var oe *runner.OptionError
		if !errors.As(err, &oe) || oe.Field() != tc.path || argv != nil {
			t.Errorf("%s: %v %v, want an OptionError on %s", tc.name, argv, err, tc.path)
		}
	}
	for _, target := range []string{"-iL/etc/passwd", "", "a b", "127.0.0.1;id"} {
		if _, err := r.Argv([]string{target}, domain.NmapOptions{}); err == nil {
			t.Errorf("target %q accepted", target)
		}
	}
}

func ptr(i int) *int { return &i }

type fakeResolver map[string][]netip.Addr

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	return f[host], nil
}

func TestTargetsAllowlist(t *testing.T) {
	res := fakeResolver{
		"local.test": {netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")},
		"mixed.test": {netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("10.0.0.1")},
	}
	r := runner.New(runner.Config{Resolver: res})
	got, err := r.Targets(context.Background(), []string{"127.0.0.1", "127.0.0.0/24", "local.test", "::1"})
	if err != nil || !slices.Equal(got, []string{"127.0.0.1", "127.0.0.0/24", "::1"}) {
		t.Fatalf("%v %v", got, err)
	}
	for _, target := range []string{"10.0.0.1", "192.168.0.0/16", "0.0.0.0/0", "127.0.0.0/8", "mixed.test", "8.8.8.8", "::2", "-sS", "x;y"} {
		_, err := r.Targets(context.Background(), []string{"127.0.0.1", target})
		var te *runner.TargetError
		if !errors.As(err, &te) || !runner.Permanent(err) {
			t.Errorf("%s: %v, want a TargetError", target, err)
		}
	}
	// A refused target never reaches nmap.
	if _, _, err := r.Run(context.Background(), runner.Spec{Targets: []string{"10.1.2.3"}}); !runner.Permanent(err) {
		t.Fatalf("run of a non-loopback target: %v", err)
	}
}

func TestMissingNmap(t *testing.T) {
	r := runner.New(runner.Config{Path: filepath.Join(t.TempDir(), "nmap")})
	_, _, err := r.Run(context.Background(), runner.Spec{Targets: []string{"127.0.0.1"}})
	if !errors.Is(err, runner.ErrNotFound) || !strings.Contains(err.Error(), "SOC_NMAP_PATH") {
		t.Fatalf("%v", err)
	}
}

// fakeNmap writes an executable script standing in for nmap (it ignores its arguments).
func fakeNmap(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "nmap")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCancelKillsTheProcessGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	// The script starts a child that would outlive a kill of the script alone.
	p := fakeNmap(t, "sleep 300 &\necho $! > "+pidFile+"\nwait")
	r := runner.New(runner.Config{Path: p})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, _, err := r.Run(ctx, runner.Spec{Targets: []string{"127.0.0.1"}})
		done <- err
	}()
	var pid int
	for pid == 0 { // wait until the child runs
		b, _ := os.ReadFile(pidFile)
		pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		select {
		case err := <-done:
			t.Fatalf("returned before cancel: %v", err)
		case <-time.After(10 * time.Millisecond): // poll, not a timing assertion
		}
	}
	cancel()
	if err := <-done; err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	// The child was killed with its group: reaped by init, it is gone or a zombie.
	for {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			break
		}
		st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil || strings.Contains(string(st), ") Z ") {
			break
		}
		time.Sleep(10 * time.Millisecond) // poll until init has reaped it
	}
}

func TestOversizedOutputIsAnError(t *testing.T) {
	p := fakeNmap(t, "head -c 3000000 /dev/zero")
	r := runner.New(runner.Config{Path: p, MaxOutputBytes: 1 << 20})
	_, _, err := r.Run(context.Background(), runner.Spec{Targets: []string{"127.0.0.1"}})
	var tl *runner.OutputTooLargeError
	if !errors.As(err, &tl) {
		t.Fatalf("%v", err)
	}
}

func TestFailingNmapReportsStderr(t *testing.T) {
	p := fakeNmap(t, "echo 'Failed to resolve something' >&2\nexit 1")
	_, _, err := runner.New(runner.Config{Path: p}).Run(context.Background(), runner.Spec{Targets: []string{"127.0.0.1"}})
	if err == nil || !strings.Contains(err.Error(), "Failed to resolve") {
		t.Fatalf("%v", err)
	}
}
