package problem

import "testing"

// A domain rule's refusal is a 422 naming the command field, with the reason as detail.
func TestRuleErrorIsRejectedOnItsField(t *testing.T) {
	rec, _, d := write(t, Rule("/justification", "a %s needs a justification", "risk acceptance"))
	if rec.Code != 422 || d.Status != 422 || d.Type != "https://soc-platform.dev/problems/rejected" {
		t.Fatalf("status %d, problem %+v: want 422 rejected", rec.Code, d)
	}
	if d.Detail != "a risk acceptance needs a justification" {
		t.Errorf("detail %q", d.Detail)
	}
	if d.Field != "/justification" {
		t.Errorf("field %q, want /justification", d.Field)
	}
}
