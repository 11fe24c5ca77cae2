package vulns

import model "github.com/socplatform/soc/projections/vulns"

// The read model's SQL reader is what the endpoints are wired with.
var _ Reader = (*model.Reader)(nil)
