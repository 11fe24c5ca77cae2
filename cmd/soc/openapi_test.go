package main

import (
	"testing"

	"github.com/socplatform/soc/query-api/openapi"
)

// TestOpenAPIDescribesEveryRoute starts a node with every target in this process and compares
// the routes it registered with the operations of /openapi.json, both ways: a route added
// without documenting it, or a documented operation nobody serves, fails here.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	_, patterns := serveInProcess(t, allTargetsConfig(t))

	documented := map[string]bool{}
	for _, op := range openapi.Operations() {
		documented[op.MuxPattern()] = true
	}
	served := map[string]bool{}
	for _, p := range patterns {
		if p == "/" { // the problem+json 404 for everything else
			continue
		}
		served[p] = true
		if !documented[p] {
			t.Errorf("route %q is served but missing from the OpenAPI document", p)
		}
	}
	for p := range documented {
		if !served[p] {
			t.Errorf("the OpenAPI document describes %q, which no target serves", p)
		}
	}
	if len(served) < 30 || !served["GET /v1/findings"] || !served["GET /ws"] || !served["POST /v1/scans/imports"] {
		t.Fatalf("suspiciously few routes recorded: %v", patterns)
	}
}
