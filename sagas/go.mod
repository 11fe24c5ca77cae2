module github.com/socplatform/soc/sagas

go 1.26.8
