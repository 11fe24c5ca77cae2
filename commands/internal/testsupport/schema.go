package testsupport

import "testing"

// CheckClosedAndBounded reports, as errors naming file and the JSON pointer, every object of the
// JSON Schema node without additionalProperties: false, every array without maxItems and every
// string without maxLength or enum; with boundNumbers, also every number or integer without both
// minimum and maximum. The bounds are what lets the command and event guards refuse oversized
// input before it is stored.
func CheckClosedAndBounded(tb testing.TB, file string, node map[string]any, boundNumbers bool) {
	tb.Helper()
	checkClosedAndBounded(tb, file, "", node, boundNumbers)
}

func checkClosedAndBounded(tb testing.TB, file, ptr string, node map[string]any, boundNumbers bool) {
	tb.Helper()
	// A defs.json's shared definitions are checked where they are declared: the schemas that
	// $ref them are closed and bounded through them.
	defs, _ := node["$defs"].(map[string]any)
	for k, v := range defs {
		checkClosedAndBounded(tb, file, ptr+"/$defs/"+k, v.(map[string]any), boundNumbers)
	}
	switch node["type"] {
	case "object":
		if node["additionalProperties"] != false {
			tb.Errorf("%s%s: object without additionalProperties: false", file, ptr)
		}
		props, _ := node["properties"].(map[string]any)
		for k, v := range props {
			checkClosedAndBounded(tb, file, ptr+"/"+k, v.(map[string]any), boundNumbers)
		}
	case "array":
		if _, ok := node["maxItems"]; !ok {
			tb.Errorf("%s%s: array without maxItems", file, ptr)
		}
		checkClosedAndBounded(tb, file, ptr+"/items", node["items"].(map[string]any), boundNumbers)
	case "string":
		_, max := node["maxLength"]
		_, enum := node["enum"]
		if !max && !enum {
			tb.Errorf("%s%s: unbounded string", file, ptr)
		}
	case "number", "integer":
		_, lo := node["minimum"]
		_, hi := node["maximum"]
		if boundNumbers && (!lo || !hi) {
			tb.Errorf("%s%s: unbounded number", file, ptr)
		}
	}
}
