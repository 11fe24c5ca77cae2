module github.com/socplatform/soc/commands

go 1.26.8

require (
	github.com/google/uuid v1.6.0
	github.com/socplatform/soc/events v0.0.0
)

require (
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3 // indirect
	golang.org/x/text v0.41.0 // indirect
)

// The workspace modules are versioned together; replace keeps `go mod tidy` working per module.
replace (
	github.com/socplatform/soc/events => ../events
	github.com/socplatform/soc/schemas => ../schemas
)
