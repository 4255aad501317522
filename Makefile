# cove: rootless containers. `make demo` and `make test` are the two
# commands of the README's quick start; both work on a fresh Debian or
# Ubuntu machine as root (they set it up) or as a prepared user.
SWIFT ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
PREFIX ?= /usr/local
RELEASE_FLAGS = -c release --static-swift-stdlib

BINDIR ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec/cove
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
ZSHCOMPDIR ?= $(DATADIR)/zsh/site-functions
FISHCOMPDIR ?= $(DATADIR)/fish/vendor_completions.d

.PHONY: all build release test demo docs bench bench-start bench-net bench-pull bench-fs install install-files uninstall clean

all: build

build:
	$(SWIFT) build

release:
	$(SWIFT) build $(RELEASE_FLAGS)

test:
	bash scripts/test.sh

demo:
	bash scripts/demo.sh

# Man/cove*.1 and completions/ from the command tree (scripts/gen-docs.py);
# IntegrationTests/DocsCurrencyTests fails when they are not current.
docs:
	$(SWIFT) build --product cove
	python3 scripts/gen-docs.py "$$($(SWIFT) build --show-bin-path)/cove" .

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
# or there), the man pages in section 1, completions where bash-completion,
# zsh and fish look for them. DESTDIR stages a package. install-files
# copies binaries already built in BIN (the tests use it).
install: release
	$(MAKE) install-files BIN="$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)"

install-files:
	test -x "$(BIN)/cove" || { echo "install-files: no cove in BIN=$(BIN); run make install" >&2; exit 1; }
	install -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(LIBEXECDIR)" "$(DESTDIR)$(MANDIR)/man1" \
		"$(DESTDIR)$(BASHCOMPDIR)" "$(DESTDIR)$(ZSHCOMPDIR)" "$(DESTDIR)$(FISHCOMPDIR)"
	install -m 0755 "$(BIN)/cove" "$(DESTDIR)$(BINDIR)/cove"
	for h in cove-unshare cove-fs cove-net cove-registry; do \
		install -m 0755 "$(BIN)/$$h" "$(DESTDIR)$(LIBEXECDIR)/$$h"; \
	done
	install -m 0644 Man/*.1 "$(DESTDIR)$(MANDIR)/man1/"
	install -m 0644 completions/cove.bash "$(DESTDIR)$(BASHCOMPDIR)/cove"
	install -m 0644 completions/_cove "$(DESTDIR)$(ZSHCOMPDIR)/_cove"
	install -m 0644 completions/cove.fish "$(DESTDIR)$(FISHCOMPDIR)/cove.fish"

uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/cove" "$(DESTDIR)$(LIBEXECDIR)"/cove-unshare "$(DESTDIR)$(LIBEXECDIR)"/cove-fs \
		"$(DESTDIR)$(LIBEXECDIR)"/cove-net "$(DESTDIR)$(LIBEXECDIR)"/cove-registry
	for m in Man/*.1; do rm -f "$(DESTDIR)$(MANDIR)/man1/$$(basename $$m)"; done
	rm -f "$(DESTDIR)$(BASHCOMPDIR)/cove" "$(DESTDIR)$(ZSHCOMPDIR)/_cove" "$(DESTDIR)$(FISHCOMPDIR)/cove.fish"
	-rmdir "$(DESTDIR)$(LIBEXECDIR)"

clean:
	rm -rf .build
