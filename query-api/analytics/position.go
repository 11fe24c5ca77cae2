package analytics

import "github.com/socplatform/soc/query-api/querykit"

// Position is querykit.ModelPosition, under the name cmd/soc still uses for the analytics
// model's (and the search index's) position.
type Position = querykit.ModelPosition
