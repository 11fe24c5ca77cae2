package catalogue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/socplatform/soc/commands/vulns/feeds"
	"github.com/socplatform/soc/events"
)

// Usage is the usage text of `soc feeds`.
const Usage = `usage: soc feeds import nvd|kev|epss FILE

Imports a CVE catalogue feed into the event store and enriches findings:
  nvd   NVD CVE API 2.0 JSON (a response page, {"cve": …} or a bare CVE object)
  kev   the CISA Known Exploited Vulnerabilities catalogue JSON
  epss  the FIRST EPSS daily CSV
FILE may be gzip-compressed. Prints a JSON summary.
`

// RunCLI implements `soc feeds import nvd|kev|epss FILE`; args are the arguments after "feeds".
// It prints the Summary as one JSON object on stdout and returns the exit code: 0 on success,
// 2 with the usage on bad arguments, 1 on a failed import (a bad file is reported with its
// position: feed, line, column, byte offset, record and field).
func RunCLI(ctx context.Context, args []string, stdout, stderr io.Writer, store *events.Guarded) int {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprint(stdout, Usage)
		return 0
	}
	if len(args) != 3 || args[0] != "import" {
		fmt.Fprint(stderr, Usage)
		return 2
	}
	feed, path := args[1], args[2]
	switch feeds.Feed(feed) {
	case feeds.FeedNVD, feeds.FeedKEV, feeds.FeedEPSS:
	default:
		fmt.Fprintf(stderr, "soc feeds: unknown feed %q\n%s", feed, Usage)
		return 2
	}
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintf(stderr, "soc feeds: %v\n", err)
		return 1
	}
	defer f.Close()
	c := New(store, Options{})
	if err := c.Load(ctx); err != nil {
		fmt.Fprintf(stderr, "soc feeds: loading the catalogue: %v\n", err)
		return 1
	}
	sum, err := c.Import(ctx, feed, f)
	if err != nil {
		var pe *feeds.ParseError
		if errors.As(err, &pe) {
			fmt.Fprintf(stderr, "soc feeds: %s: %v\n", path, pe)
		} else {
			fmt.Fprintf(stderr, "soc feeds: %s: %v\n", path, err)
		}
		if sum.Records > 0 {
			fmt.Fprintf(stderr, "soc feeds: the %d records before the error were imported; re-running after fixing the file is idempotent\n", sum.Records)
		}
		return 1
	}
	enc := json.NewEncoder(stdout)
	if err := enc.Encode(sum); err != nil {
		fmt.Fprintf(stderr, "soc feeds: %v\n", err)
		return 1
	}
	return 0
}
