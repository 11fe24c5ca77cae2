package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/socplatform/soc/events/eventstest"
)

// The README's "A five-minute tour" is a bash script a reader pastes into a shell at the
// repository root. TestTourInTheREADME runs it as written, in a directory laid out like a checkout
// (bin/soc beside ../shared/testdata), on a fresh machine's terms: an empty HOME and TMPDIR, no SOC_*
// variable but SOC, the one documented substitution (the tour's `SOC=${SOC:-localhost:8080}`), set
// to a free port. The tour makes its own data and config directories with mktemp, so nothing else
// needs substituting; the test only adds an ERR trap that names the failing line. Before running it, the test checks what a reader could not run: a
// <placeholder> or an ellipsis left in a command, a literal date (it only worked on the day it was
// written), a program the tour's prose does not name.

const tourHeading = "## A five-minute tour"

// tour is the README's tour: its prose (up to the fence), its script, and the README line the
// script starts on.
type tour struct {
	prose, script string
	line          int
}

// readTour extracts the tour: the first ```bash fence after its heading.
func readTour(readme string) (tour, error) {
	start := strings.Index(readme, "\n"+tourHeading+"\n")
	if start < 0 {
		return tour{}, fmt.Errorf("no %q section", tourHeading)
	}
	section := readme[start+1:]
	if next := strings.Index(section[len(tourHeading):], "\n## "); next >= 0 {
		section = section[:len(tourHeading)+next]
	}
	open := strings.Index(section, "\n```bash\n")
	if open < 0 {
		return tour{}, errors.New("the tour has no ```bash block")
	}
	body := section[open+len("\n```bash\n"):]
	end := strings.Index(body, "\n```")
	if end < 0 {
		return tour{}, errors.New("the tour's ```bash block is not closed")
	}
	line := strings.Count(readme[:start+1+open], "\n") + 3 // the heading's newline, the fence, then the first line
	return tour{prose: section[:open], script: body[:end+1], line: line}, nil
}

var (
	// A placeholder a reader would have to replace: <finding_id>, <id>, <alice token>.
	placeholderRE = regexp.MustCompile(`<[A-Za-z][A-Za-z0-9_ .-]*>`)
	// A literal date or timestamp: 2026-11-28, 2026-11-28T15:00:00Z.
	literalDateRE = regexp.MustCompile(`\b(19|20)\d\d-[01]\d-[0-3]\d`)
	// The names the prose gives: **curl**, `jq`, `bin/soc`.
	namedRE = regexp.MustCompile("\\*\\*([^*]+)\\*\\*|`([^`]+)`")
)

// shellBuiltins are the bash builtins and keywords a reader need not install.
var shellBuiltins = []string{"set", "export", "kill", "wait", "umask", "[", "test", "cd", "echo", "printf",
	"read", "true", "false", "exit", "trap", "local", "if", "then", "else", "fi", "for", "do", "done", "while", "until"}

// problems lists what would stop a reader running t as written, each with its README line.
func (t tour) problems() []string {
	var out []string
	named := t.namedTools()
	for i, line := range strings.Split(t.script, "\n") {
		at := fmt.Sprintf("README.md:%d", t.line+i)
		code := stripComment(line)
		if m := placeholderRE.FindString(code); m != "" {
			out = append(out, fmt.Sprintf("%s: placeholder %s in a command", at, m))
		}
		if strings.Contains(code, "…") {
			out = append(out, fmt.Sprintf("%s: an ellipsis in a command (a value left out)", at))
		}
		if m := literalDateRE.FindString(line); m != "" {
			out = append(out, fmt.Sprintf("%s: literal date %s (compute it: date -u -d …)", at, m))
		}
	}
	for _, c := range commandsOf(t.script) {
		if !slices.Contains(shellBuiltins, c.name) && !named[c.name] {
			out = append(out, fmt.Sprintf("README.md:%d: %s is run but the tour does not name it among its tools", t.line+c.line, c.name))
		}
	}
	return out
}

// namedTools are the programs the tour's prose names: every word in bold (**GNU date**), and
// a code span's first word (`make build` names make).
func (t tour) namedTools() map[string]bool {
	named := map[string]bool{}
	for _, m := range namedRE.FindAllStringSubmatch(t.prose, -1) {
		for _, w := range strings.Fields(m[1]) {
			named[w] = true
		}
		if f := strings.Fields(m[2]); len(f) > 0 {
			named[f[0]] = true
		}
	}
	return named
}

// stripComment drops a line's # comment (a # that starts a word outside quotes).
func stripComment(line string) string {
	var quote rune
	prev := ' '
	for i, r := range line {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == '#' && (prev == ' ' || prev == '\t'):
			return line[:i]
		}
		prev = r
	}
	return line
}

// command is a program a script runs, with the script line it is on (0-based).
type command struct {
	name string
	line int
}

// commandsOf lists the programs script runs: the first word of every simple command, after
// any NAME=value assignments, including those in $(…) substitutions. It knows as much bash as a
// README needs: quotes, \ continuations, comments, pipes, lists, subshells and substitutions
// (no here-documents, no functions).
func commandsOf(script string) []command {
	type mode int
	const (
		code mode = iota
		single
		double
	)
	// frame is one nesting level: a quote, or code in $(…) or (…) with the word and state of the
	// level it interrupted.
	type frame struct {
		mode      mode
		word      string
		expecting bool
	}
	var (
		out       []command
		stack     = []frame{{mode: code}}
		word      strings.Builder
		wordLine  int
		expecting = true // the next word is a command's first
		line      int
	)
	endWord := func() {
		w := word.String()
		word.Reset()
		if w == "" || !expecting {
			return
		}
		if eq := strings.IndexByte(w, '='); eq > 0 && assignmentRE.MatchString(w[:eq]) {
			return // an assignment: the command comes next
		}
		out = append(out, command{name: w, line: wordLine})
		expecting = false
	}
	enter := func() { // $( or (: a new command starts; the interrupted word resumes after )
		stack = append(stack, frame{mode: code, word: word.String(), expecting: expecting})
		word.Reset()
		expecting = true
	}
	rs := []rune(script)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if r == '\n' {
			line++
		}
		switch stack[len(stack)-1].mode {
		case single:
			if r == '\'' {
				stack = stack[:len(stack)-1]
			}
			continue
		case double:
			switch {
			case r == '\\':
				i++
			case r == '"':
				stack = stack[:len(stack)-1]
			case r == '$' && i+1 < len(rs) && rs[i+1] == '(':
				i++
				enter()
			}
			continue
		}
		switch {
		case r == '\\' && i+1 < len(rs) && rs[i+1] == '\n':
			i++
			line++
			endWord()
		case r == '#' && word.Len() == 0:
			for i+1 < len(rs) && rs[i+1] != '\n' {
				i++
			}
		case r == '\'' || r == '"':
			if word.Len() == 0 {
				wordLine = line
			}
			word.WriteRune(r) // quoted text belongs to its word, never a command of its own
			stack = append(stack, frame{mode: map[rune]mode{'\'': single, '"': double}[r]})
		case r == '$' && i+1 < len(rs) && rs[i+1] == '(':
			i++
			enter()
		case r == '(':
			endWord()
			enter()
		case r == ')':
			endWord()
			if len(stack) > 1 {
				f := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				word.WriteString(f.word)
				expecting = f.expecting
			}
		case r == '|' || r == ';' || r == '&' || r == '\n':
			endWord()
			expecting = true
		case r == ' ' || r == '\t':
			endWord()
		case r == '<' || r == '>':
			endWord()
			// 2>&1, <<<: the redirection's operator; the word after it is a file, not a command.
			for i+1 < len(rs) && (rs[i+1] == '<' || rs[i+1] == '>' || rs[i+1] == '&') {
				i++
			}
		default:
			if word.Len() == 0 {
				wordLine = line
			}
			word.WriteRune(r)
		}
	}
	endWord()
	return out
}

var assignmentRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// The checks catch each thing a reader could not run, and accept the forms the tour uses.
func TestTourChecks(t *testing.T) {
	readme := "# x\n\n" + tourHeading + "\n\nTools: **curl**, **GNU date**, **jq**, `bin/soc` (`make build`).\n\n```bash\n%s```\n\n## Next\n"
	cases := []struct {
		script string
		want   []string // substrings of the problems, in order; none: clean
	}{
		{"F=$(curl -fsS \"$SOC/v1/findings\" | jq -r '.items[0].id')   # ids from jq, <id> explained here\n" +
			"curl -s \"$SOC/x/$(jq -r .id <<<\"$UP\")\" 2>&1 | jq -c '.items[] | {a}' || [ $? = 28 ]\n" +
			"bin/soc import \\\n  file.json > out.json &\nkill $!; wait $!\n", nil},
		{"curl -s localhost:8080/v1/findings/<finding_id>/triage\n", []string{"README.md:8: placeholder <finding_id>"}},
		{"curl -s 'localhost:8080/v1/events?from=2026-11-28T00:00:00Z'\n", []string{"README.md:8: literal date 2026-11-28"}},
		{"# as of 2026-11-28\ncurl -s x\n", []string{"README.md:8: literal date"}},
		{"X=1 SMTP_PASSWORD=… bin/soc serve\n", []string{"README.md:8: an ellipsis"}},
		{"curl -s x\nwebsocat 'ws://localhost:8080/ws'\n", []string{"README.md:9: websocat is run"}},
		{"T=$(openssl rand -hex 8)\n", []string{"openssl is run"}},
		{"curl -s \"x/$(uuidgen)\"\n", []string{"uuidgen is run"}},
		{"curl -s x | tee out | jq .\n", []string{"tee is run"}},
		{"SOC_X=1 \\\n  nc -l 80\n", []string{"README.md:9: nc is run"}},
		{"make build\nD=$(date -u -d '-1 hour' +%FT%TZ)\n", nil}, // named by `make build` and **GNU date**

	}
	for _, c := range cases {
		tr, err := readTour(fmt.Sprintf(readme, c.script))
		if err != nil {
			t.Fatal(err)
		}
		got := tr.problems()
		if len(got) != len(c.want) {
			t.Errorf("%q: problems %q, want %d matching %q", c.script, got, len(c.want), c.want)
			continue
		}
		for i := range got {
			if !strings.Contains(got[i], c.want[i]) {
				t.Errorf("%q: problem %q, want it to contain %q", c.script, got[i], c.want[i])
			}
		}
	}
	if _, err := readTour("# x\n\n" + tourHeading + "\n\n```sh\nls\n```\n"); err == nil {
		t.Error("a tour without a ```bash block was accepted")
	}

	// On the README's own tour the parser finds the programs it runs (one that found none
	// would let any tool through), each on its line.
	readmeText, err := os.ReadFile(filepath.Join(eventstest.RepoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := readTour(string(readmeText))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(tr.script, "\n")
	found := map[string]bool{}
	for _, c := range commandsOf(tr.script) {
		found[c.name] = true
		if !strings.Contains(lines[c.line], c.name) {
			t.Errorf("command %s placed on line %d: %q", c.name, c.line, lines[c.line])
		}
	}
	for _, want := range []string{"bin/soc", "curl", "jq", "date", "kill", "wait"} {
		if !found[want] {
			t.Errorf("the tour's commands %v lack %s", found, want)
		}
	}
}

// TestTourInTheREADME runs the README's tour against a fresh node of this build, top to bottom;
// any command failing fails the test, naming its README line.
func TestTourInTheREADME(t *testing.T) {
	root := eventstest.RepoRoot(t)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := readTour(string(readme))
	if err != nil {
		t.Fatal(err)
	}
	if p := tr.problems(); len(p) > 0 {
		t.Fatalf("the tour cannot run as written:\n%s", strings.Join(p, "\n"))
	}
	testdata := eventstest.SharedTestdata(t)
	for _, tool := range []string{"bash", "curl", "jq", "date"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the tour needs %s: %v", tool, err)
		}
	}
	if out, err := exec.Command("date", "--version").Output(); err != nil || !bytes.Contains(out, []byte("GNU")) {
		t.Fatalf("the tour needs GNU date (date --version: %q, %v)", out, err)
	}

	// A checkout's layout: <dir>/work/bin/soc, <dir>/shared/testdata.
	dir := t.TempDir()
	work := filepath.Join(dir, "work")
	for _, d := range []string{filepath.Join(work, "bin"), filepath.Join(dir, "home"), filepath.Join(dir, "tmp")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(socBin, filepath.Join(work, "bin", "soc")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Dir(testdata), filepath.Join(dir, "shared")); err != nil {
		t.Fatal(err)
	}
	// The ERR trap names the README line of the command that failed. It is the one line the test
	// adds: the script's line n (from 1) is the tour's line n-2 (from 0), README line tr.line+n-2.
	script := "trap 'echo \"tour: README.md line $((LINENO - 2 + " + strconv.Itoa(tr.line) + ")) failed with status $?\" >&2' ERR\n" + tr.script
	path := filepath.Join(dir, "tour.sh")
	if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}

	addr := freeAddr(t)
	// Generous: the tour takes about two minutes on a busy 2-core machine with the race detector;
	// within the test binary's own deadline, so that a hang is reported with its output.
	limit := 8 * time.Minute
	if d, ok := t.Deadline(); ok && time.Until(d)-30*time.Second < limit {
		limit = time.Until(d) - 30*time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", path)
	cmd.Dir = work
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + filepath.Join(dir, "home"),
		"TMPDIR=" + filepath.Join(dir, "tmp"), "LANG=C.UTF-8", "SOC=" + addr}
	// Its own process group: the node the tour starts in the background goes with it whatever
	// happens. Output goes to files, not pipes: a node left running by a failed tour holds them
	// open, and Wait would wait for it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	stdout, stderr := createFile(t, filepath.Join(dir, "stdout")), createFile(t, filepath.Join(dir, "stderr"))
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopGroup := func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	t.Cleanup(stopGroup)
	if err := cmd.Wait(); err != nil {
		stopGroup()
		logs, _ := filepath.Glob(filepath.Join(dir, "tmp", "*", "soc.log"))
		var nodeLog []byte
		if len(logs) > 0 {
			nodeLog, _ = os.ReadFile(logs[0])
		}
		errOut, _ := os.ReadFile(stderr.Name())
		out, _ := os.ReadFile(stdout.Name())
		t.Fatalf("the tour failed (%v):\n--- stderr\n%s\n--- stdout (end)\n%s\n--- node log (end)\n%s",
			err, errOut, lastLines(string(out), 40), lastLines(string(nodeLog), 40))
	}
	// The tour ends by stopping its node: nothing listens on its port any more.
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatalf("the tour left its node running on %s", addr)
	}
}

func createFile(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// freeAddr is a loopback address with a port nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
