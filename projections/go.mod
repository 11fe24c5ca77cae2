module github.com/socplatform/soc/projections

go 1.26.8
