package httpcmd

import (
	"net/http/httptest"
	"testing"

	"github.com/socplatform/soc/commands/internal/es"
)

// A key's fingerprint is the request's: the same command on the same route with the same body
// (however spaced or ordered) has the same one; another body, route or command another; no key,
// none.
func TestBindKeyFingerprintsTheRequest(t *testing.T) {
	type body struct {
		Owner string `json:"owner"`
		Note  string `json:"note,omitempty"`
	}
	fp := func(key, schema, path string, b body) string {
		inv := es.Invocation{Meta: es.Meta{IdempotencyKey: key}}
		bindKey(&inv, httptest.NewRequest("POST", path, nil), schema, b)
		return inv.Fingerprint
	}
	base := fp("k", "vulns/AssignFinding", "/v1/findings/a/assign", body{Owner: "x"})
	if base == "" || base != fp("other-key", "vulns/AssignFinding", "/v1/findings/a/assign", body{Owner: "x"}) {
		t.Fatalf("the fingerprint is of the request, not of the key: %q", base)
	}
	for name, other := range map[string]string{
		"body":    fp("k", "vulns/AssignFinding", "/v1/findings/a/assign", body{Owner: "y"}),
		"field":   fp("k", "vulns/AssignFinding", "/v1/findings/a/assign", body{Owner: "x", Note: "n"}),
		"route":   fp("k", "vulns/AssignFinding", "/v1/findings/b/assign", body{Owner: "x"}),
		"command": fp("k", "vulns/CommentFinding", "/v1/findings/a/assign", body{Owner: "x"}),
	} {
		if other == base {
			t.Errorf("another %s, the same fingerprint", name)
		}
	}
	if got := fp("", "vulns/AssignFinding", "/v1/findings/a/assign", body{Owner: "x"}); got != "" {
		t.Errorf("no key, fingerprint %q", got)
	}
}
