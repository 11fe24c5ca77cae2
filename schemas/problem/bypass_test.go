package problem

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Every error response goes through Error: these are the ways a handler could write one by
// hand, each found in the repository before this package owned the mapping.
var successStatus = map[string]bool{
	"StatusOK": true, "StatusCreated": true, "StatusAccepted": true, "StatusNoContent": true,
	"StatusNotModified": true, "StatusSwitchingProtocols": true, "StatusPartialContent": true,
	// Redirects are answers, not errors (the OIDC sign-in redirects to the provider and back).
	"StatusFound": true, "StatusSeeOther": true, "StatusTemporaryRedirect": true,
}

// bypasses lists the hand-built error responses in one Go file.
func bypasses(fset *token.FileSet, file *ast.File) []string {
	var found []string
	report := func(n ast.Node, what string) {
		found = append(found, fset.Position(n.Pos()).String()+": "+what)
	}
	for _, imp := range file.Imports {
		if imp.Path.Value == `"github.com/santhosh-tekuri/jsonschema/v6/kind"` {
			report(imp, "reads jsonschema error kinds: render schema errors with schemas.Violation")
		}
	}
	ast.Inspect(file, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.BasicLit:
			if x.Kind == token.STRING && strings.Contains(x.Value, ContentType) {
				report(x, "spells the problem content type: answer with problem.Error")
			}
		case *ast.CompositeLit:
			if sel, ok := x.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "Details" && isIdent(sel.X, "problem") {
				report(x, "builds a problem document by hand: return a typed error to problem.Error")
			}
		case *ast.CallExpr:
			if sel, ok := x.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Error" && isIdent(sel.X, "http") {
				report(x, "http.Error: answer with problem.Error")
				return true
			}
			// WriteHeader(400), writeJSON(w, http.StatusConflict, …): an error status handed to a
			// writer. A bare number is a status only for WriteHeader (elsewhere it is a limit, a size).
			sel, isSel := x.Fun.(*ast.SelectorExpr)
			writeHeader := isSel && sel.Sel.Name == "WriteHeader"
			for _, arg := range x.Args {
				if errorStatus(arg, writeHeader) {
					report(x, "writes an error status by hand: answer with problem.Error")
					break
				}
			}
		}
		return true
	})
	return found
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

// errorStatus: a net/http status constant that is not a success, or a literal one of 400 to 599
// (the range keeps ordinary numbers such as a length of 1000 out).
func errorStatus(e ast.Expr, literals bool) bool {
	switch x := e.(type) {
	case *ast.BasicLit:
		if !literals {
			return false
		}
		n, err := strconv.Atoi(x.Value)
		return err == nil && n >= 400 && n <= 599
	case *ast.SelectorExpr:
		return isIdent(x.X, "http") && strings.HasPrefix(x.Sel.Name, "Status") && !successStatus[x.Sel.Name]
	}
	return false
}

func TestBypassesAreFound(t *testing.T) {
	src := `package p
import (
	"net/http"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"github.com/socplatform/soc/schemas/problem"
)
func h(w http.ResponseWriter, r *http.Request, status int) {
	http.Error(w, "no", 500)
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(http.StatusBadRequest)
	w.WriteHeader(503)
	_ = problem.Details{Status: 400}
	writeJSON(w, http.StatusConflict, map[string]any{"error": "taken"})
	w.WriteHeader(http.StatusOK)
	w.WriteHeader(status)
	writeJSON(w, http.StatusAccepted, nil)
}`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := bypasses(fset, f); len(got) != 7 {
		t.Fatalf("found %d bypasses, want 7:\n%s", len(got), strings.Join(got, "\n"))
	}
}

// TestNoHandlerBypassesTheMapping walks the repository's Go sources (tests aside: they may
// fake a server) and fails on any error response written without Error.
func TestNoHandlerBypassesTheMapping(t *testing.T) {
	root := repoRoot(t)
	self, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	files := 0
	var found []string
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		// This package owns the mapping; schemas.Violation is the one schema-error renderer.
		if filepath.Dir(path) == self || rel == filepath.Join("schemas", "violation.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		files++
		found = append(found, bypasses(fset, f)...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 100 {
		t.Fatalf("walked only %d Go files under %s: not the repository", files, root)
	}
	for _, f := range found {
		t.Error(f)
	}
}

// repoRoot is the directory of go.work above this package.
func repoRoot(t *testing.T) string {
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.work above the package: the check needs the whole repository")
		}
		dir = parent
	}
}
