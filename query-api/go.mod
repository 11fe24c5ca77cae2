module github.com/socplatform/soc/query-api

go 1.26.8

require (
	github.com/google/uuid v1.6.0 // indirect
	github.com/gorilla/websocket v1.5.3
	golang.org/x/text v0.41.0 // indirect
)

require (
	github.com/getkin/kin-openapi v0.153.0
	github.com/socplatform/soc/events v0.0.0
	github.com/socplatform/soc/projections v0.0.0
	github.com/socplatform/soc/schemas v0.0.0
)

require (
	github.com/dustin/go-humanize v1.1.0 // indirect
	github.com/go-openapi/jsonpointer v0.22.5 // indirect
	github.com/go-openapi/swag/jsonname v0.25.5 // indirect
	github.com/mattn/go-isatty v0.0.24 // indirect
	github.com/ncruces/go-strftime v1.1.0 // indirect
	github.com/remyoudompheng/bigfft v0.0.0-20230129092748-24d4a6f8daec // indirect
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3
	go.yaml.in/yaml/v4 v4.0.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	modernc.org/libc v1.80.1 // indirect
	modernc.org/mathutil v1.7.1 // indirect
	modernc.org/memory v1.12.1 // indirect
	modernc.org/sqlite v1.62.0 // indirect
)

replace (
	github.com/socplatform/soc/events => ../events
	github.com/socplatform/soc/projections => ../projections
	github.com/socplatform/soc/schemas => ../schemas
)
