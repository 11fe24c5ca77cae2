# SOC Platform — `make run` starts the platform on its embedded default; `make test` runs every test,
# starting the real servers (PostgreSQL, Kafka) through deploy/dev when they are not running.
SHELL      := /bin/bash
.DEFAULT_GOAL := help
GO         ?= go
PKGS       := github.com/socplatform/soc/...
SOC_DEV_HOME ?= $(HOME)/.cache/soc-dev
BIN        := bin/soc
VERSION    ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS    := -X main.version=$(VERSION)
# Loads the addresses written by deploy/dev/up.sh; set SOC_TEST_* yourself to use other servers.
# (assigned before eval: a failure inside eval "$$(…)" would be swallowed)
WITH_DEPS  := if [ -z "$${SOC_TEST_POSTGRES_URL:-}" ] || [ -z "$${SOC_TEST_KAFKA_BROKERS:-}" ] || [ -z "$${SOC_TEST_OIDC_ISSUER:-}" ] || [ -z "$${SOC_TEST_REDIS_URL:-}" ] || [ -z "$${SOC_TEST_CONSUL_ADDR:-}" ] || [ -z "$${SOC_TEST_JAEGER_QUERY_URL:-}" ] || [ -z "$${SOC_TEST_CLICKHOUSE_URL:-}" ] || [ -z "$${SOC_TEST_ELASTICSEARCH_URL:-}" ] || [ -z "$${SOC_TEST_OPENSEARCH_URL:-}" ]; then \
                deps_env="$$(deploy/dev/up.sh)" || exit 1; eval "$$deps_env"; fi;
export SOC_DEV_HOME

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

.PHONY: build
build: ## build bin/soc
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/soc

.PHONY: run
run: build ## start the platform on the embedded default (SQLite in ./data) at :8080
	./$(BIN) serve

.PHONY: test
# -timeout is per package: cmd/soc's end-to-end tests take 21–23 minutes under -race on a shared
# 2-core machine, too close to 30 minutes for a slower CI machine; 50 keeps a whole run within CI's 90.
test: ## all tests with -race, against real PostgreSQL and Kafka (started if missing)
	@$(WITH_DEPS) set -x; $(GO) test -race -count=1 -timeout 50m $(PKGS)

.PHONY: test-unit
test-unit: ## tests that need no server (integration tests skip)
	SOC_TEST_POSTGRES_URL= SOC_TEST_KAFKA_BROKERS= SOC_TEST_OIDC_ISSUER= SOC_TEST_REDIS_URL= SOC_TEST_CONSUL_ADDR= SOC_TEST_OTLP_ENDPOINT= SOC_TEST_JAEGER_QUERY_URL= $(GO) test -race -count=1 $(PKGS)

.PHONY: bench
bench: ## benchmarks, each beside its raw baseline in the same run, and peak RSS importing a 250 MB report (SOC_BENCH_REPORT_MB) beside its size (starts the servers)
	@$(WITH_DEPS) $(GO) run ./cmd/soc/internal/benchreport

.PHONY: lint
lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

.PHONY: fuzz
fuzz: ## run each fuzz target for FUZZTIME (default 30s)
	$(GO) test ./events -run '^$$' -fuzz FuzzValidate -fuzztime $${FUZZTIME:-30s}
	for p in nmap trivy grype sarif nessus openvas zap cyclonedx; do \
		$(GO) test ./commands/scans/importers/$$p -run '^$$' -fuzz FuzzParse -fuzztime $${FUZZTIME:-30s} || exit 1; \
	done

.PHONY: deps-up
deps-up: ## start PostgreSQL and Kafka for tests (prints their addresses)
	deploy/dev/up.sh

.PHONY: deps-down
deps-down: ## stop them
	deploy/dev/down.sh

.PHONY: generate
generate: ## regenerate the Go types of schemas/ (package schemas/contracts) from the JSON Schemas
	$(GO) run ./schemas/internal/gen -schemas schemas -out schemas/contracts

.PHONY: schemas-lock
schemas-lock: ## pin the digests of new event schemas (a pinned schema must never change)
	cd schemas && for f in $$(find events -name '*.json' | LC_ALL=C sort); do \
	  grep -q "  $$f$$" events.lock || sha256sum "$$f" >> events.lock; done

.PHONY: clean
clean: ## remove build outputs and the local data directory
	rm -rf bin data
