module github.com/socplatform/soc/query-api

go 1.26.8
