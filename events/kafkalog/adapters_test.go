package kafkalog

import (
	"github.com/socplatform/soc/events/adapters/postgres"
	"github.com/socplatform/soc/events/adapters/sqlite"
)

// Both store adapters keep the relay's checkpoint beside the events.
var (
	_ Checkpoints = (*sqlite.Store)(nil)
	_ Checkpoints = (*postgres.Store)(nil)
)
