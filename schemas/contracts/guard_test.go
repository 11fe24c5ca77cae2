package contracts_test

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/socplatform/soc/schemas"
)

// TestOneDeclarationPerEvent walks the repository's Go sources (tests and this package aside)
// and fails on a second declaration of an event: a string literal spelling an event type (use
// contracts.Type<Name>), or a type named like an event or its payload (FindingOpened,
// findingOpenedData, RequestedData for ScanRequested …; use the generated struct). An alias of
// a generated type is a name, not a declaration, and is allowed. A saga command's type string
// (x-command-type of schemas/commands) spelt out is a copy too: use contracts.Cmd<Name>.
func TestOneDeclarationPerEvent(t *testing.T) {
	names := eventTypes(t)
	if len(names) < 50 {
		t.Fatalf("only %d event types found: the schemas moved?", len(names))
	}
	cmds := busCommandTypes(t)
	if len(cmds) < 12 {
		t.Fatalf("only %d saga command types found: the schemas moved?", len(cmds))
	}
	// A payload type's name, lower-cased, without a Data/Payload/Event suffix, spells the event
	// type or the event type without its aggregate (ScanRequested → requested).
	forbidden := map[string]string{}
	lead := regexp.MustCompile(`^(CVE|SLA|[A-Z][a-z]+)`)
	for n := range names {
		forbidden[strings.ToLower(n)] = n
		if rest := lead.ReplaceAllString(n, ""); len(rest) > 0 {
			forbidden[strings.ToLower(rest)] = n
		}
	}
	root := filepath.Join("..", "..")
	checked := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "testdata", "node_modules":
				return filepath.SkipDir
			}
			if filepath.ToSlash(p) == "../../schemas/contracts" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		checked++
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.BasicLit:
				if x.Kind != token.STRING {
					return true
				}
				s, err := strconv.Unquote(x.Value)
				if err != nil {
					return true
				}
				if names[s] {
					t.Errorf("%s: the event type %q spelt out: use contracts.Type%s", p, s, s)
				}
				if c, ok := cmds[s]; ok {
					t.Errorf("%s: the command type %q spelt out: use contracts.Cmd%s", p, s, c)
				}
			case *ast.TypeSpec:
				if x.Assign.IsValid() {
					return true // an alias names a type declared elsewhere
				}
				base := strings.ToLower(x.Name.Name)
				for _, suffix := range []string{"data", "payload", "event"} {
					base = strings.TrimSuffix(base, suffix)
				}
				if ev, ok := forbidden[base]; ok {
					t.Errorf("%s: type %s declares the payload of %s again: use contracts.%s", p, x.Name.Name, ev, ev)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 100 {
		t.Fatalf("only %d Go files checked: the walk missed the repository", checked)
	}
}

func eventTypes(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	err := fs.WalkDir(schemas.EventsFS(), "events", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name := path.Base(p)
		if i := strings.Index(name, ".v"); i > 0 {
			out[name[:i]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// busCommandTypes maps the type string of every command sent through the command bus to its
// schema's name.
func busCommandTypes(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	fsys := schemas.CommandsFS()
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		var s struct {
			Title       string `json:"title"`
			CommandType string `json:"x-command-type"`
		}
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if s.CommandType != "" {
			out[s.CommandType] = s.Title
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
