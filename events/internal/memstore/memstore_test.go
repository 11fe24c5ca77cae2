package memstore_test

import (
	"testing"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/internal/memstore"
	"github.com/socplatform/soc/events/storetest"
)

// TestContract runs the store contract suite on the test double, so the tests that rely on it
// rely on a faithful implementation of the port.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) events.EventStore { return memstore.New() })
}
