package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
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
	g := newGenerator()
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

// TestSharedDefinitionsAreOneType: a defs.json definition becomes one Go type, a property that
// refers to it is a field of that type (a pointer when optional, as an inline object would be),
// and a payload that is the definition as a whole is a type of its own with its fields.
func TestSharedDefinitionsAreOneType(t *testing.T) {
	fsys := fstest.MapFS{
		"events/things/defs.json": {Data: []byte(`{"$defs": {
			"Thing": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
			"Colour": {"type": "string", "enum": ["red", "blue"]}}}`)},
		"events/things/ThingMade.v1.json": {Data: []byte(`{"title": "ThingMade", "type": "object",
			"required": ["colour"], "properties": {"thing": {"$ref": "defs.json#/$defs/Thing"}, "colour": {"$ref": "defs.json#/$defs/Colour"}}}`)},
		"events/things/ThingRemade.v1.json": {Data: []byte(`{"title": "ThingRemade", "$ref": "defs.json#/$defs/Thing"}`)},
	}
	files, err := generate(fsys)
	if err != nil {
		t.Fatal(err)
	}
	src := string(files["zz_things.go"])
	for _, want := range []string{
		"type Thing struct {\n\tName string `json:\"name\"`\n}",
		"Thing  *Thing `json:\"thing,omitempty\"`",
		"Colour Colour `json:\"colour\"`",
		"type ThingRemade Thing\n",
	} {
		if !strings.Contains(src, want) {
			t.Errorf("generated code lacks %q:\n%s", want, src)
		}
	}
	if strings.Count(src, "Name string") != 1 {
		t.Errorf("the shared fields are declared more than once:\n%s", src)
	}
	if !strings.Contains(string(files["zz_enums.go"]), "type Colour string") {
		t.Errorf("the shared enum is not declared:\n%s", files["zz_enums.go"])
	}
}

// TestUnknownDefinitionFails: a $ref to a definition that no defs.json declares fails the
// generation instead of producing a type nobody declared.
func TestUnknownDefinitionFails(t *testing.T) {
	fsys := fstest.MapFS{
		"events/things/defs.json":         {Data: []byte(`{"$defs": {}}`)},
		"events/things/ThingMade.v1.json": {Data: []byte(`{"title": "ThingMade", "type": "object", "properties": {"thing": {"$ref": "defs.json#/$defs/Thing"}}}`)},
	}
	if _, err := generate(fsys); err == nil || !strings.Contains(err.Error(), "no such definition") {
		t.Fatalf("got %v, want a no-such-definition error", err)
	}
	// A definition that would be no struct and no enum (a bare string) is refused, not emitted
	// as an empty struct.
	fsys["events/things/defs.json"] = &fstest.MapFile{Data: []byte(`{"$defs": {"Thing": {"type": "string"}}}`)}
	if _, err := generate(fsys); err == nil || !strings.Contains(err.Error(), "a shared definition is") {
		t.Fatalf("got %v, want a refusal of the bare string definition", err)
	}
}

// TestGoTypeAliasesOnlyTheSameFields: a command definition with x-go-type is an alias of the
// event type when their fields agree, and fails the generation when they do not.
func TestGoTypeAliasesOnlyTheSameFields(t *testing.T) {
	fsys := func(input string) fstest.MapFS {
		return fstest.MapFS{
			"events/things/defs.json":   {Data: []byte(`{"$defs": {"Thing": {"type": "object", "properties": {"name": {"type": "string"}}}}}`)},
			"commands/things/defs.json": {Data: []byte(`{"$defs": {"ThingInput": ` + input + `}}`)},
		}
	}
	files, err := generate(fsys(`{"x-go-type": "Thing", "type": "object", "properties": {"name": {"type": "string", "maxLength": 8}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if src := string(files["zz_things.go"]); !strings.Contains(src, "type ThingInput = Thing\n") || strings.Count(src, "Name string") != 1 {
		t.Errorf("ThingInput is not an alias of Thing:\n%s", src)
	}
	if _, err := generate(fsys(`{"x-go-type": "Thing", "type": "object", "properties": {"name": {"type": "integer"}}}`)); err == nil {
		t.Error("an alias of a type with other fields was accepted")
	}
}

// TestVersionedDefinitionsAreTypesOfTheirOwn: a definition declared again in defs.v2.json (the
// published defs.json never changes) is the type <Name>V2 beside <Name>, and the payloads that
// refer to it get that type.
func TestVersionedDefinitionsAreTypesOfTheirOwn(t *testing.T) {
	fsys := fstest.MapFS{
		"events/things/defs.json":         {Data: []byte(`{"$defs": {"Colour": {"type": "string", "enum": ["red"]}}}`)},
		"events/things/defs.v2.json":      {Data: []byte(`{"$defs": {"Colour": {"type": "string", "enum": ["red", "blue"]}}}`)},
		"events/things/ThingMade.v1.json": {Data: []byte(`{"title": "ThingMade", "type": "object", "required": ["colour"], "properties": {"colour": {"$ref": "defs.json#/$defs/Colour"}}}`)},
		"events/things/ThingMade.v2.json": {Data: []byte(`{"title": "ThingMade", "type": "object", "required": ["colour"], "properties": {"colour": {"$ref": "defs.v2.json#/$defs/Colour"}}}`)},
	}
	files, err := generate(fsys)
	if err != nil {
		t.Fatal(err)
	}
	enums := string(files["zz_enums.go"])
	for _, want := range []string{"type Colour string", `ColourRed Colour = "red"`, "type ColourV2 string", `ColourV2Blue ColourV2 = "blue"`} {
		if !strings.Contains(enums, want) {
			t.Errorf("enums lack %q:\n%s", want, enums)
		}
	}
	src := string(files["zz_things.go"])
	for _, want := range []string{"type ThingMade struct {\n\tColour Colour `json:\"colour\"`", "type ThingMadeV2 struct {\n\tColour ColourV2 `json:\"colour\"`"} {
		if !strings.Contains(src, want) {
			t.Errorf("generated code lacks %q:\n%s", want, src)
		}
	}
}

// TestEmbedsTheSharedFirstFields: a payload named in embeds embeds the other payload whose fields
// are its first ones (an alias field type counting as the type it names), and the generation
// fails when they are not.
func TestEmbedsTheSharedFirstFields(t *testing.T) {
	embeds["events/things/ThingMade.v1.json"] = "events/things/ThingChanged.v1.json"
	defer delete(embeds, "events/things/ThingMade.v1.json")
	fsys := func(made string) fstest.MapFS {
		return fstest.MapFS{
			"events/things/ThingChanged.v1.json": {Data: []byte(`{"title": "ThingChanged", "type": "object", "required": ["name"],
				"properties": {"name": {"type": "string"}, "size": {"type": "integer"}}}`)},
			"events/things/ThingMade.v1.json": {Data: []byte(`{"title": "ThingMade", "type": "object", "required": ["name"],
				"properties": ` + made + `}`)},
		}
	}
	files, err := generate(fsys(`{"name": {"type": "string"}, "size": {"type": "integer"}, "maker": {"type": "string"}}`))
	if err != nil {
		t.Fatal(err)
	}
	src := string(files["zz_things.go"])
	if want := "\tThingChanged\n\tMaker string `json:\"maker,omitempty\"`\n}"; !strings.Contains(src, want) || strings.Count(src, "Name string") != 1 {
		t.Errorf("ThingMade does not embed ThingChanged:\n%s", src)
	}
	for _, made := range []string{
		`{"maker": {"type": "string"}, "name": {"type": "string"}, "size": {"type": "integer"}}`,
		`{"name": {"type": "string"}, "size": {"type": "number"}, "maker": {"type": "string"}}`,
		`{"name": {"type": "string"}, "size": {"type": "integer"}}`,
	} {
		if _, err := generate(fsys(made)); err == nil || !strings.Contains(err.Error(), "embeds") {
			t.Errorf("%s: got %v, want a refusal to embed", made, err)
		}
	}
}

// TestCommandWithAnEventsFieldsIsThatType: a command payload whose fields are exactly an event
// payload's of its context is a type of that event's fields; one with other fields, or with a
// single field, keeps a struct of its own.
func TestCommandWithAnEventsFieldsIsThatType(t *testing.T) {
	const pair = `"properties": {"name": {"type": "string"}, "size": {"type": "integer"}}}`
	files, err := generate(fstest.MapFS{
		"events/things/ThingMade.v1.json":  {Data: []byte(`{"title": "ThingMade", "type": "object", "required": ["name"], ` + pair)},
		"events/things/ThingNamed.v1.json": {Data: []byte(`{"title": "ThingNamed", "type": "object", "properties": {"name": {"type": "string"}}}`)},
		"commands/things/MakeThing.json":   {Data: []byte(`{"title": "MakeThing", "type": "object", "required": ["name"], ` + pair)},
		"commands/things/ResizeThing.json": {Data: []byte(`{"title": "ResizeThing", "type": "object", ` + pair)},
		"commands/things/RenameThing.json": {Data: []byte(`{"title": "RenameThing", "type": "object", "properties": {"name": {"type": "string"}}}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	src := string(files["zz_things.go"])
	for _, want := range []string{"type MakeThing ThingMade\n", "type ResizeThing struct {", "type RenameThing struct {"} {
		if !strings.Contains(src, want) {
			t.Errorf("generated code lacks %q:\n%s", want, src)
		}
	}
}
