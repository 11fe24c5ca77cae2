module github.com/socplatform/soc/cmd/soc

go 1.26.8
