package main

import (
	"encoding/json"
	"testing"
)

func TestWithoutEmptyDropsWhatFlagsLeftEmpty(t *testing.T) {
	var none []string
	b, _ := json.Marshal(withoutEmpty(map[string]any{"email": "a@example.org", "phone": "", "roles": none, "teams": []string{}, "scopes": []string{"imports:write"}}))
	if string(b) != `{"email":"a@example.org","scopes":["imports:write"]}` {
		t.Fatalf("body %s", b)
	}
}
