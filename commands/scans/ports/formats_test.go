package ports

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"

	"github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/commands/scans/importers"
)

// TestFormatsEndpoint: GET /v1/scans/formats answers app.Formats() as {"formats": […]}, in its
// order, the route beside the import routes.
func TestFormatsEndpoint(t *testing.T) {
	f := newFixture(t, ImportsConfig{}, nil)
	resp, err := http.Get(f.srv.URL + "/v1/scans/formats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var got struct {
		Formats []importers.FormatInfo `json:"formats"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if want := app.Formats(); !reflect.DeepEqual(got.Formats, want) {
		t.Errorf("got %+v\nwant %+v", got.Formats, want)
	}
}
