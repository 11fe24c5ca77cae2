module github.com/socplatform/soc/schemas

go 1.26.8
