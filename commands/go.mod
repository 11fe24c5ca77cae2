module github.com/socplatform/soc/commands

go 1.26.8
