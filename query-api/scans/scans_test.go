package scans

import model "github.com/socplatform/soc/projections/scans"

// The read model's SQL reader is what the endpoints are wired with.
var _ Reader = (*model.Reader)(nil)
