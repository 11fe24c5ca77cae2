package schemas

import (
	"errors"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

func TestViolationNamesTheFieldToFix(t *testing.T) {
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(`{
		"type": "object", "additionalProperties": false, "required": ["name"],
		"properties": {
			"name": {"type": "string"},
			"a/b~c": {"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}}}
		}}`))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("t.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("t.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ body, pointer, reason string }{
		{`{}`, "/name", "missing property 'name'"},
		{`{"name": "x", "bogus": 1}`, "/bogus", "additional properties 'bogus' not allowed"},
		{`{"name": "x", "a/b~c": {"n": 0}}`, "/a~1b~0c/n", "minimum"},
		{`[]`, "", "want object"},
	} {
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		ptr, reason, ok := Violation(sch.Validate(inst))
		if !ok || ptr != tc.pointer || !strings.Contains(reason, tc.reason) {
			t.Errorf("%s: %q %q %v, want %q and a reason with %q", tc.body, ptr, reason, ok, tc.pointer, tc.reason)
		}
	}
	if _, _, ok := Violation(errors.New("not a schema error")); ok {
		t.Error("a plain error is a violation")
	}
}
