# cove: rootless containers. `make demo` and `make test` are the two
# commands of the README's quick start; both work on a fresh Debian or
# Ubuntu machine as root (they set it up) or as a prepared user.
SWIFT ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
PREFIX ?= /usr/local
RELEASE_FLAGS = -c release --static-swift-stdlib

BINDIR ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec/cove
MANDIR ?= $(PREFIX)/share/man

.PHONY: all build release test demo bench bench-start bench-net bench-pull bench-fs install uninstall clean

all: build

build:
	$(SWIFT) build

release:
	$(SWIFT) build $(RELEASE_FLAGS)

test:
	bash scripts/test.sh

demo:
	bash scripts/demo.sh

bench: bench-start bench-net bench-pull bench-fs

bench-start:
	bash bench/start.sh

bench-net:
	bash bench/net.sh

bench-pull:
	bash bench/pull.sh

bench-fs:
	bash bench/fs.sh

# cove on the PATH, its helpers in libexec (cove finds them beside itself
# or there), the man pages in section 1. DESTDIR stages a package.
install: release
	install -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(LIBEXECDIR)" "$(DESTDIR)$(MANDIR)/man1"
	install -m 0755 "$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)/cove" "$(DESTDIR)$(BINDIR)/cove"
	for h in cove-unshare cove-fs cove-net; do \
		install -m 0755 "$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)/$$h" "$(DESTDIR)$(LIBEXECDIR)/$$h"; \
	done
	install -m 0644 Man/*.1 "$(DESTDIR)$(MANDIR)/man1/"

uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/cove" "$(DESTDIR)$(LIBEXECDIR)"/cove-unshare "$(DESTDIR)$(LIBEXECDIR)"/cove-fs \
		"$(DESTDIR)$(LIBEXECDIR)"/cove-net
	for m in Man/*.1; do rm -f "$(DESTDIR)$(MANDIR)/man1/$$(basename $$m)"; done
	-rmdir "$(DESTDIR)$(LIBEXECDIR)"

clean:
	rm -rf .build
