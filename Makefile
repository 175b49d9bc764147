# MLung Audit: set-up, build, test and demo on a bare Debian machine with the Swift toolchain.
SHELL := /bin/bash
SWIFT ?= swift
APT_PACKAGES := libopenblas-dev libdcmtk-dev dcmtk libsqlite3-dev libcairo2-dev \
                fonts-dejavu-core poppler-utils pkgconf
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BIN := .build/release/mlung-audit
DEMO_OUT := demo-out

.PHONY: all deps build test demo bench clean

all: build

## deps: install the Debian packages the project needs, when they are missing.
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

## build: release build of the mlung-audit command.
build: deps
	$(SWIFT) build -c release --product mlung-audit

## test: every test (XCTest), then one closing line "N passed, N failed".
test: deps
	@mkdir -p .build; status=0; \
	set -o pipefail; $(SWIFT) test --disable-swift-testing 2>&1 | tee .build/test.log || status=$$?; \
	awk '/Executed [0-9]+ tests?, with [0-9]+ failures?/ { n = $$2; f = $$5 } \
	     END { if (n != "") printf "%d passed, %d failed\n", n - f, f; else print "0 passed, 1 failed" }' .build/test.log; \
	exit $$status

## demo: a full audit of the demo models on generated cohorts (scripts/demo.sh), into demo-out/.
demo: build
	BIN=$(BIN) OUT=$(DEMO_OUT) scripts/demo.sh

## bench: our engine against PyTorch eager and ONNX Runtime (needs tools/requirements.txt in a venv).
bench: build
	tools/bench_engine.sh

clean:
	rm -rf .build $(DEMO_OUT)
