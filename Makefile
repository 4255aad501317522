# cove: rootless containers. `make demo` and `make test` are the two
# commands of the README's quick start; both work on a fresh Debian or
# Ubuntu machine as root (they set it up) or as a prepared user.
SWIFT ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
PREFIX ?= /usr/local
RELEASE_FLAGS = -c release --static-swift-stdlib

.PHONY: all build release test demo bench bench-start clean

all: build

build:
	$(SWIFT) build

release:
	$(SWIFT) build $(RELEASE_FLAGS)

test:
	bash scripts/test.sh

demo:
	bash scripts/demo.sh

bench: bench-start

bench-start:
	bash bench/start.sh

clean:
	rm -rf .build
