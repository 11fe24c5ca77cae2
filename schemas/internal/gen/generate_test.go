package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestCommittedOutputIsCurrent regenerates package contracts and fails when the committed
// files differ: a schema changed without `make generate`, or a generated file was edited.
func TestCommittedOutputIsCurrent(t *testing.T) {
	files, err := generate(os.DirFS(filepath.Join("..", "..")))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("..", "..", "contracts")
	committed, err := filepath.Glob(filepath.Join(dir, "zz_*.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range committed {
		if _, ok := files[filepath.Base(f)]; !ok {
			t.Errorf("%s is not generated any more: run make generate", f)
		}
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		got, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Errorf("%s: %v (run make generate)", n, err)
			continue
		}
		if !bytes.Equal(got, files[n]) {
			t.Errorf("%s differs from a fresh generation: run make generate (first differing line %d)", n, firstDiff(got, files[n]))
		}
	}
}

func firstDiff(a, b []byte) int {
	la, lb := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := range min(len(la), len(lb)) {
		if !bytes.Equal(la[i], lb[i]) {
			return i + 1
		}
	}
	return min(len(la), len(lb)) + 1
}

// TestEnumClashNeedsAName: two value lists under one Go name are refused, not merged.
func TestEnumClashNeedsAName(t *testing.T) {
	g := &generator{enums: map[string]*enumDecl{}, files: map[string]*fileDecls{}, names: map[string]string{}, shared: map[string]string{}}
	if _, err := g.enum("Reason", "", []string{"a"}, "x.json"); err != nil {
		t.Fatal(err)
	}
	if _, err := g.enum("Reason", "", []string{"a"}, "y.json"); err != nil {
		t.Fatalf("the same list twice is one enum: %v", err)
	}
	if _, err := g.enum("Reason", "", []string{"a", "b"}, "z.json"); err == nil {
		t.Fatal("a second list under the same name was accepted")
	}
}

func TestPascal(t *testing.T) {
	for in, want := range map[string]string{"in_remediation": "InRemediation", "asset_id": "AssetID", "3.1": "3_1", "cves": "CVEs", "not ready": "NotReady"} {
		if got := pascal(in); got != want {
			t.Errorf("pascal(%q) = %q, want %q", in, got, want)
		}
	}
}
