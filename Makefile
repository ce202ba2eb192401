# ssh-sockproxy: build, test and install the static musl binary.

TARGET      := x86_64-unknown-linux-musl
BIN         := target/$(TARGET)/release/ssh-sockproxy
# Bytes the stripped binary may take; `make size` (part of `make test`) fails above it.
# 48 KiB since machine/ (JSON reader, Varlink client) landed; the performance
# issue brings it down to the measured size plus at most 1 KiB.
SIZE_BUDGET := 49152

PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
DESTDIR     ?=

CARGO       ?= cargo

.PHONY: build test unit size demo install uninstall clean

build:
	$(CARGO) build --release --locked

# Unit tests of the library and black-box tests of the release binary (real
# sockets, strace-faked vsock, real ssh/sshd); needs root for sshd and mount
# namespaces. Then the size check.
test: build
	$(CARGO) test --release --locked
	$(MAKE) --no-print-directory size

size: build
	@size=$$(stat -c %s $(BIN)); \
	if ! LC_ALL=C file -b $(BIN) | grep -q 'statically linked'; then \
		echo "size: $(BIN) is not statically linked: $$(file -b $(BIN))"; exit 1; \
	fi; \
	echo "size: $(BIN) is $$size bytes, static (budget $(SIZE_BUDGET))"; \
	if [ $$size -gt $(SIZE_BUDGET) ]; then echo "size: over budget by $$((size - $(SIZE_BUDGET))) bytes"; exit 1; fi

# A throwaway sshd behind an AF_UNIX socket and a real ssh login through the proxy.
demo: build
	$(CARGO) run --release --locked --quiet --example demo -- $(abspath $(BIN))

install: build
	install -D -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/ssh-sockproxy

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/ssh-sockproxy

clean:
	$(CARGO) clean
