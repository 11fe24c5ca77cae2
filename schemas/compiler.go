package schemas

import (
	"fmt"
	"io/fs"
	"regexp"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// DefsFile names a context's shared definitions (events/<context>/defs.json,
// commands/<context>/defs.json): shapes several schemas of the context refer to with
// "$ref": "defs.json#/$defs/<Name>". It is neither an event nor a command schema.
const DefsFile = "defs.json"

var defsFileRe = regexp.MustCompile(`^defs(\.v[1-9][0-9]*)?\.json$`)

// IsDefsFile reports whether a file's base name is a context's shared definitions: DefsFile, or
// defs.v<N>.json. A published defs.json never changes, so a definition that must (a permission
// enum that grows) is declared again in a versioned file, which only the new event versions use.
func IsDefsFile(base string) bool { return defsFileRe.MatchString(base) }

// NewCompiler returns a draft 2020-12 compiler that asserts formats and resolves the $refs of
// the schemas it compiles from fsys: a schema added as "soc:///<base>/<path>" finds its
// defs.json at fsys's <dir of path>/defs.json, embedded beside it, not on the network.
func NewCompiler(fsys fs.FS, base string) *jsonschema.Compiler {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.UseLoader(jsonschema.SchemeURLLoader{"soc": fsLoader{fsys: fsys, prefix: "soc:///" + base + "/"}})
	return c
}

type fsLoader struct {
	fsys   fs.FS
	prefix string
}

func (l fsLoader) Load(url string) (any, error) {
	p, ok := strings.CutPrefix(url, l.prefix)
	if !ok || l.fsys == nil {
		return nil, fmt.Errorf("schema %s: not under %s", url, l.prefix)
	}
	f, err := l.fsys.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return jsonschema.UnmarshalJSON(f)
}
