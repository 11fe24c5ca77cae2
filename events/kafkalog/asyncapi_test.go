package kafkalog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAsyncAPIDocumentsEveryHeader keeps schemas/asyncapi.yaml in step with the encoder: a header
// the relay writes but the document does not describe fails here.
func TestAsyncAPIDocumentsEveryHeader(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "schemas", "asyncapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, h := range []string{HeaderEventID, HeaderStreamID, HeaderStreamType, HeaderVersion, HeaderGlobalPosition, HeaderType,
		HeaderSchemaVersion, HeaderOccurredAt, HeaderRecordedAt, HeaderCorrelationID, HeaderCausationID, HeaderActor,
		HeaderTenant, HeaderTraceParent, HeaderMetadata, HeaderContentType} {
		if !strings.Contains(doc, "\n          "+h+": ") {
			t.Errorf("header %q is not described in schemas/asyncapi.yaml", h)
		}
	}
	if want := strings.Replace(TopicName("soc", "assets"), "assets", "{context}", 1); !strings.Contains(doc, want) {
		t.Errorf("asyncapi.yaml does not name the topic pattern %s", want)
	}
}
