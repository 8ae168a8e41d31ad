# happydesk: two commands for a new user.
#   make run    install what is missing, build, migrate and serve on :8080 with the embedded defaults
#   make test   every test, on SQLite and on a real PostgreSQL (started here), with a real SMTP server and a real browser, then a bounded fuzz run
#   make fuzz   the longer fuzz run against a live server (schemathesis + raw malformed requests)
SWIFT ?= swift
RELEASE_BIN := .build/release/happydesk

.PHONY: run test fuzz build deps bench bench-stream demo format lint clean

deps:
	@scripts/deps.sh

build: deps
	$(SWIFT) build -c release --product happydesk

run: build
	$(RELEASE_BIN) migrate
	$(RELEASE_BIN) serve

# make test: the suite on SQLite (PostgreSQL-only tests included: copy, several instances, outages), then the
# storage-dependent suites again with PostgreSQL as the backend, then a bounded fuzz run.
test:
	@scripts/deps.sh test
	$(SWIFT) build --build-tests
	scripts/with-postgres.sh sh -c '$(SWIFT) test --skip-build && HAPPYDESK_TEST_BACKEND=postgres $(SWIFT) test --skip-build $(PG_SKIP)'
	FUZZ_EXAMPLES=100 FUZZ_RAW=2000 scripts/fuzz/run.sh

# Suites that touch no storage run once, in the SQLite pass (as do the PostgreSQL-only suites, which need no
# second pass); so do the demo-generator end-to-end suites (minutes on
# PostgreSQL in a debug build; the dashboard's figures on PostgreSQL are checked by DashboardMetricsTests and CopyTests).
PG_SKIP := --skip ParserFuzzTests --skip CurlTests --skip SurveyFileTests --skip DeliveryMessageTests --skip CopyTests --skip DashboardEndToEndTests --skip MultiInstanceTests --skip PostgresOutageTests --skip ConcurrentFoldTests --skip JWSTests

# make fuzz: a real server on a real socket; schemathesis over docs/openapi.yaml plus the raw fuzzer.
fuzz:
	@scripts/deps.sh test
	$(SWIFT) build --product happydesk
	scripts/fuzz/run.sh

# make demo: a demo database with 20,000 realistic responses, its dashboard file, a manager token, then the server.
DEMO_DB ?= data/demo.sqlite
demo: build
	@rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
	$(RELEASE_BIN) demo --database $(DEMO_DB) --responses 20000 --days 180
	$(RELEASE_BIN) dashboard --database $(DEMO_DB) --out data/dashboard.html
	@$(RELEASE_BIN) users add --database $(DEMO_DB) --name "Demo Manager" --email manager@example.com --role manager
	@echo "Dashboard file: data/dashboard.html   Live: curl -H 'Authorization: Bearer <token above>' http://127.0.0.1:8080/dashboard"
	$(RELEASE_BIN) serve --database $(DEMO_DB)

bench: build
	@scripts/deps.sh bench
	Benchmarks/run.sh

# The analyst stream's latency benchmark alone (200 sockets, 500 responses/s).
bench-stream: build
	@scripts/deps.sh bench
	REBUILD=0 Benchmarks/stream/run.sh

format:
	$(SWIFT) format --in-place --recursive Package.swift Sources Tests

lint:
	$(SWIFT) format lint --recursive Package.swift Sources Tests

clean:
	rm -rf .build
