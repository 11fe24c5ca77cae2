package access_test

import (
	"encoding/json"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/socplatform/soc/schemas"
	"github.com/socplatform/soc/schemas/access"
)

// permissionLists are the schema properties that list permissions: what a role grants or a
// token is scoped to. Each must accept exactly access.Permissions(), or a role or token holding
// a permission the schema lacks is refused at append (422) although access grants it.
var permissionLists = map[string]string{
	"events/identity/ApiTokenIssued":  "scopes",
	"events/identity/RoleDefined":     "permissions",
	"commands/identity/IssueApiToken": "scopes",
	"commands/identity/DefineRole":    "permissions",
}

var eventVersion = regexp.MustCompile(`^(.+)\.v([1-9][0-9]*)\.json$`)

// TestSchemasListEveryPermission fails when a permission is added to (or removed from) package
// access without a new version of the identity events that list permissions (published
// schemas never change: add <Type>.v<N+1>.json with a defs.v<N>.json enum and an upcaster) and
// the command schemas' enums.
func TestSchemasListEveryPermission(t *testing.T) {
	var want []string
	for _, p := range access.Permissions() {
		want = append(want, string(p))
	}
	for name, prop := range permissionLists {
		file := latest(t, name)
		got := enumOf(t, file, prop)
		if !slices.Equal(got, want) {
			t.Errorf("%s: %s accepts %v, package access has %v", file, prop, got, want)
		}
	}
}

// latest returns the schema file of name: its highest version for an event, the one file of a
// command.
func latest(t *testing.T, name string) string {
	t.Helper()
	dir, base := path.Split(name)
	if strings.HasPrefix(name, "commands/") {
		return name + ".json"
	}
	entries, err := fs.ReadDir(schemas.EventsFS(), strings.TrimSuffix(dir, "/"))
	if err != nil {
		t.Fatal(err)
	}
	file, version := "", 0
	for _, e := range entries {
		m := eventVersion.FindStringSubmatch(e.Name())
		if m == nil || m[1] != base {
			continue
		}
		if v, _ := strconv.Atoi(m[2]); v > version {
			file, version = dir+e.Name(), v
		}
	}
	if file == "" {
		t.Fatalf("no schema of %s", name)
	}
	return file
}

type node struct {
	Ref        string           `json:"$ref"`
	Enum       []string         `json:"enum"`
	Items      *node            `json:"items"`
	Properties map[string]*node `json:"properties"`
	Defs       map[string]*node `json:"$defs"`
}

// enumOf returns the enum of the items of file's array property prop, following a $ref to a
// defs file beside it.
func enumOf(t *testing.T, file, prop string) []string {
	t.Helper()
	s := read(t, file)
	p := s.Properties[prop]
	if p == nil || p.Items == nil {
		t.Fatalf("%s: no array property %s", file, prop)
	}
	items := p.Items
	if items.Ref != "" {
		doc, frag, _ := strings.Cut(items.Ref, "#")
		defs := read(t, path.Join(path.Dir(file), doc))
		items = defs.Defs[strings.TrimPrefix(frag, "/$defs/")]
		if items == nil {
			t.Fatalf("%s: %s/items: $ref %s names no definition", file, prop, p.Items.Ref)
		}
	}
	if len(items.Enum) == 0 {
		t.Fatalf("%s: %s/items has no enum", file, prop)
	}
	return items.Enum
}

func read(t *testing.T, file string) *node {
	t.Helper()
	var fsys fs.FS = schemas.EventsFS()
	if rest, ok := strings.CutPrefix(file, "commands/"); ok {
		fsys, file = schemas.CommandsFS(), rest
	}
	b, err := fs.ReadFile(fsys, file)
	if err != nil {
		t.Fatal(err)
	}
	var n node
	if err := json.Unmarshal(b, &n); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return &n
}
