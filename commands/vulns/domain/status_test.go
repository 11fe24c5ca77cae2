package domain

import (
	"slices"
	"testing"

	"github.com/socplatform/soc/schemas/contracts"
)

// TestLifecycleCoversTheVocabulary: the transitions name every status of the schemas'
// vocabulary and no other (was cmd/soc's enum-equality test, against the query API's copy).
func TestLifecycleCoversTheVocabulary(t *testing.T) {
	var got []string
	for _, s := range Statuses() {
		got = append(got, string(s))
	}
	want := contracts.FindingStatusValues()
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("lifecycle statuses %v, schema vocabulary %v", got, want)
	}
}
