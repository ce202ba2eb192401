# ssh-sockproxy: build, test and install the static musl binary.

# The product's triple; the tests and tools are built for the build host.
TARGET      := x86_64-unknown-linux-musl
BIN         := target/$(TARGET)/release/ssh-sockproxy
# Bytes the stripped binary may take; `make size` (part of `make test`) fails above it.
# 30 KiB: 30,200 bytes before the code was re-filed by feature, 30,688 after
# (README, Size), 30,536 since it has its own `_start` in place of crt1.o's.
SIZE_BUDGET := 30720

# Install layout, GNU names. The binary goes to BINDIR; a distribution that
# keeps it out of PATH (upstream's is /usr/lib/systemd/systemd-ssh-proxy) passes
# BINDIR='$(LIBEXECDIR)' or any directory, and every installed file names it.
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
LIBEXECDIR  ?= $(PREFIX)/libexec
DATADIR     ?= $(PREFIX)/share
MANDIR      ?= $(DATADIR)/man
# ssh, dracut and mkinitcpio read only these, whatever the prefix.
SYSCONFDIR  ?= /etc
SSHCONFDIR  ?= $(SYSCONFDIR)/ssh/ssh_config.d
SSHCONF     ?= $(SSHCONFDIR)/20-ssh-sockproxy.conf
DRACUTDIR   ?= /usr/lib/dracut/modules.d
INITCPIODIR ?= /usr/lib/initcpio/install
# A copy of what install last wrote to SSHCONF: an SSHCONF that differs from it
# (and from the new text) was changed by the admin and is kept unless FORCE=1.
SSHCONF_PRISTINE ?= $(DATADIR)/ssh-sockproxy/20-ssh-sockproxy.conf
FORCE       ?=
DESTDIR     ?=

CARGO       ?= cargo

.PHONY: build test size lint no-panic demo install install-dracut install-mkinitcpio uninstall clean

build:
	$(CARGO) build --release --locked --bins --target $(TARGET)

# The lint first (it is quick), then unit tests of the library, black-box
# tests of the release binary (real sockets, strace-faked vsock, real
# ssh/sshd) and the nested-VM vsock tests (vm-test), which find the binary in
# $$SSH_SOCKPROXY_BIN_DIR (the VM test in $$SSH_SOCKPROXY_BIN_DIR_x86_64);
# needs root for sshd and mount namespaces. Then the fuzz and bench smoke
# runs, the size and the panic-site checks.
test: lint build paramiko
	SSH_SOCKPROXY_BIN_DIR='$(abspath $(dir $(BIN)))' SSH_SOCKPROXY_BIN_DIR_x86_64='$(abspath $(dir $(BIN)))' \
		$(CARGO) test --release --locked
	$(MAKE) --no-print-directory fuzz-smoke
	$(MAKE) --no-print-directory bench-smoke
	$(MAKE) --no-print-directory size
	$(MAKE) --no-print-directory no-panic

# rustfmt (rustfmt.toml) over the crate and the fuzz crate, clippy with
# warnings as errors over every target (src/lib.rs denies clippy's panicking
# lints for the whole product), and no import cycle among src/ modules.
lint:
	$(CARGO) fmt --check
	$(CARGO) fmt --check --manifest-path tests/fuzz/Cargo.toml
	$(CARGO) clippy --release --all-targets --locked -- -D warnings
	$(CARGO) clippy --release --locked --lib --bins --target $(TARGET) -- -D warnings
	python3 tests/lint/import_cycles.py --self-test
	python3 tests/lint/import_cycles.py src

# Every panic call site left in the release binary, against the list in
# tests/no-panic/allowed (each there with why it cannot be reached): the same
# release build again into its own target dir, with symbols and line tables;
# check.py first makes sure that its code is byte for byte the shipped one's.
NO_PANIC_DIR := target/no-panic
no-panic: build
	CARGO_PROFILE_RELEASE_STRIP=false CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
		$(CARGO) build --release --locked --quiet --bin ssh-sockproxy --target $(TARGET) --target-dir $(NO_PANIC_DIR)
	python3 tests/no-panic/check.py $(NO_PANIC_DIR)/$(TARGET)/release/ssh-sockproxy $(BIN) tests/no-panic/allowed

# Paramiko, a real ssh client without fd passing, for the relay tests:
# a venv from PyPI with the pinned versions in tests/paramiko/requirements.txt.
PARAMIKO := target/paramiko
.PHONY: paramiko
paramiko: $(PARAMIKO)/installed
$(PARAMIKO)/installed: tests/paramiko/requirements.txt
	rm -rf $(PARAMIKO)
	python3 -m venv $(PARAMIKO)
	$(PARAMIKO)/bin/pip install --quiet --disable-pip-version-check -r tests/paramiko/requirements.txt
	touch $@

# Only the end-to-end vsock tests: a guest kernel under QEMU with vhost-device-vsock
# (tests/vm/). Artefacts are cached in $SSH_SOCKPROXY_VM_CACHE, by default
# ~/.cache/ssh-sockproxy-vm; the first run builds them in about a minute.
.PHONY: vm-test
vm-test: build
	SSH_SOCKPROXY_BIN_DIR_x86_64='$(abspath $(dir $(BIN)))' $(CARGO) test --release --locked --test vm

# Fuzzing (tests/fuzz): each cargo-fuzz target for FUZZ_SECONDS, from the seed
# corpus in tests/fuzz/seeds/TARGET plus what earlier runs found in
# tests/fuzz/corpus/TARGET; prints how many inputs each one ran. cargo-fuzz is
# built once into target/tools. It needs nightly features (-Zsanitizer):
# RUSTC_BOOTSTRAP=1 lets the stable toolchain build the fuzz targets, and only
# them; the product never builds with it.
CARGO_FUZZ   := target/tools/bin/cargo-fuzz
FUZZ_TARGETS := host_grammar numbers mux_reply json_reader
FUZZ_SECONDS ?= 120
.PHONY: fuzz fuzz-smoke
$(CARGO_FUZZ):
	$(CARGO) install --locked --quiet --root target/tools cargo-fuzz@0.13.2

fuzz: $(CARGO_FUZZ)
	@set -e; for t in $(FUZZ_TARGETS); do \
		mkdir -p tests/fuzz/corpus/$$t; \
		RUSTC_BOOTSTRAP=1 $(CARGO_FUZZ) fuzz run --fuzz-dir tests/fuzz $$t tests/fuzz/corpus/$$t tests/fuzz/seeds/$$t \
			-- -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 > target/fuzz-$$t.log 2>&1 \
			|| { tail -n 40 target/fuzz-$$t.log; echo "fuzz: $$t FAILED (log: target/fuzz-$$t.log)"; exit 1; }; \
		echo "fuzz: $$t: $$(grep -o 'Done [0-9]* runs in [0-9]* second(s)' target/fuzz-$$t.log)"; \
	done

# The short run that `make test` includes.
fuzz-smoke:
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=10

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

# Performance (tests/bench/, README "Performance"): start-up cost against a no_std
# no-op floor, /bin/true, socat and systemd-ssh-proxy where present, syscalls,
# peak RSS, size, hand-offs per second; then BENCH_MIB MiB through real ssh
# by fd passing, by relay and by socat. Root for sshd. No timing is asserted.
# The harness is built for the host, the floor like the product.
BENCH_RUNS  ?= 300
BENCH_BATCH ?= 640
BENCH_REPS  ?= 3
BENCH_MIB   ?= 512
BENCH_NOOP  := target/$(TARGET)/release/examples/bench-noop
bench_run    = BENCH_RUNS='$(BENCH_RUNS)' BENCH_BATCH='$(BENCH_BATCH)' BENCH_REPS='$(BENCH_REPS)' BENCH_MIB='$(BENCH_MIB)' \
	target/release/examples/bench $(1) $(abspath $(BIN)) $(abspath $(BENCH_NOOP))

.PHONY: bench bench-startup bench-throughput bench-build
bench-build: build
	$(CARGO) build --release --locked --example bench
	$(CARGO) build --release --locked --example bench-noop --target $(TARGET)

bench: bench-build
	$(call bench_run,all)

bench-startup: bench-build
	$(call bench_run,startup)

bench-throughput: bench-build
	$(call bench_run,throughput)

# The few-second run that `make test` includes, so that the bench keeps working;
# its numbers mean nothing.
.PHONY: bench-smoke
bench-smoke:
	@$(MAKE) --no-print-directory bench BENCH_RUNS=20 BENCH_BATCH=64 BENCH_REPS=1 BENCH_MIB=16 > target/bench-smoke.log 2>&1 \
		|| { tail -n 40 target/bench-smoke.log; echo "bench-smoke FAILED (log: target/bench-smoke.log)"; exit 1; }
	@echo "bench-smoke: make bench ran (log: target/bench-smoke.log)"

# $(call with_filled,TEMPLATE,COMMAND) runs COMMAND with $$t naming a copy of
# TEMPLATE filled in with the installed paths (src/dist/fill.sh; the binary is
# not run, so this works for cross-builds too).
with_filled = t=$$(mktemp) && { sh src/dist/fill.sh "$(BINDIR)/ssh-sockproxy" "$(SSHCONF)" < $(1) > "$$t" && $(2); s=$$?; rm -f "$$t"; exit $$s; }
# $(call with_dropin,COMMAND) likewise with $$t naming the ssh_config drop-in
# for the installed binary, written by the library's own fragment and quoting
# rule (src/dist/dropin.rs, a cargo example built for and run on the build host).
DROPIN      := target/release/examples/dropin
with_dropin = t=$$(mktemp) && { $(DROPIN) "$(BINDIR)/ssh-sockproxy" > "$$t" && $(1); s=$$?; rm -f "$$t"; exit $$s; }
conffile = FORCE='$(FORCE)' sh src/dist/conffile.sh $(1) "$$t" "$(DESTDIR)$(SSHCONF)" "$(DESTDIR)$(SSHCONF_PRISTINE)"

.PHONY: dropin
dropin:
	$(CARGO) build --release --locked --quiet --example dropin

# The binary, its man page and the ssh_config drop-in.
install: build dropin
	install -D -m 0755 $(BIN) "$(DESTDIR)$(BINDIR)/ssh-sockproxy"
	install -D -m 0644 src/dist/ssh-sockproxy.1 "$(DESTDIR)$(MANDIR)/man1/ssh-sockproxy.1"
	$(call with_dropin,$(call conffile,install))

# Initrd builders' hooks for what `install` puts in place (give both the same variables).
install-dracut:
	$(call with_filled,src/dist/dracut/90ssh-sockproxy/module-setup.sh.in,install -D -m 0755 "$$t" "$(DESTDIR)$(DRACUTDIR)/90ssh-sockproxy/module-setup.sh")

install-mkinitcpio:
	$(call with_filled,src/dist/mkinitcpio/ssh-sockproxy.in,install -D -m 0644 "$$t" "$(DESTDIR)$(INITCPIODIR)/ssh-sockproxy")

uninstall: dropin
	rm -f "$(DESTDIR)$(BINDIR)/ssh-sockproxy" "$(DESTDIR)$(MANDIR)/man1/ssh-sockproxy.1" \
		"$(DESTDIR)$(DRACUTDIR)/90ssh-sockproxy/module-setup.sh" "$(DESTDIR)$(INITCPIODIR)/ssh-sockproxy"
	rmdir "$(DESTDIR)$(DRACUTDIR)/90ssh-sockproxy" 2>/dev/null || true
	$(call with_dropin,$(call conffile,remove))
	rmdir "$(DESTDIR)$(DATADIR)/ssh-sockproxy" 2>/dev/null || true

clean:
	$(CARGO) clean
