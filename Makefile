# ssh-sockproxy: build, test and install the static binaries, the proxy and
# the guest-side server ssh-sockserve, for x86-64 and the other architectures
# our users run.

# The architecture to build, test or install for: `make build ARCH=aarch64`.
# Each has its Rust triple (see .cargo/config.toml) and, but for x86-64, which
# runs here natively, the qemu-user program that runs its binaries in the
# tests (called by name: no binfmt_misc).
ARCH           ?= x86_64
ARCHES         := x86_64 aarch64 riscv64 armv7
TRIPLE_x86_64  := x86_64-unknown-linux-musl
TRIPLE_aarch64 := aarch64-unknown-linux-musl
TRIPLE_riscv64 := riscv64gc-unknown-linux-gnu
TRIPLE_armv7   := armv7-unknown-linux-gnueabihf
QEMU_aarch64   := qemu-aarch64
QEMU_riscv64   := qemu-riscv64
QEMU_armv7     := qemu-arm
TARGET         := $(TRIPLE_$(ARCH))
ifeq ($(TARGET),)
$(error ARCH=$(ARCH): not one of $(ARCHES))
endif
# Where ARCH's binaries are, and the ones that install and demo take.
out_of      = target/$(TRIPLE_$(1))/release
OUT         := $(call out_of,$(ARCH))
BIN         := $(OUT)/ssh-sockproxy
SERVE_BIN   := $(OUT)/ssh-sockserve
# Every [[bin]] of the package: each is built, size-checked and shipped for
# every architecture.
BINS        := $(shell sed -n '/^\[\[bin\]\]/,/^$$/s/^name *= *"\(.*\)"/\1/p' Cargo.toml)
VERSION     := $(shell sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n 1)

# Bytes each stripped binary may take on each architecture, as
# BUDGET_<binary>_<arch>: `make size` (part of `make test`) fails above it, and
# for a binary that has none. ssh-sockproxy on x86-64: 30,712 bytes after the
# layout issue, 30,536 with its own `_start` in place of crt1.o's, 32,320
# after the second hardening round (docs/performance.md, Size); each budget leaves 192
# bytes of room above the measured size. With ssh-sockserve's code in the
# library, armv7's proxy grew 200 bytes (LLVM treats the shared helpers
# differently before LTO), to 36,176. Issue 16 then added machined's
# sshAddress (1,952 on x86-64) and the wait for libssh's banner after the
# hand-off with close_range (552): x86-64 34,816, aarch64 35,472, riscv64
# 34,176, armv7 39,008.
BUDGET_ssh-sockproxy_x86_64  := 35008
BUDGET_ssh-sockproxy_aarch64 := 35664
BUDGET_ssh-sockproxy_riscv64 := 34368
BUDGET_ssh-sockproxy_armv7   := 39200
# ssh-sockserve: 24 KiB, the goal its issue set (docs/performance.md, Size); armv7's A32
# code is larger (docs/architectures.md): with READY=1 tried
# again and the close fallback (25,668), and 192 of room.
BUDGET_ssh-sockserve_x86_64  := 24576
BUDGET_ssh-sockserve_aarch64 := 24576
BUDGET_ssh-sockserve_riscv64 := 24576
BUDGET_ssh-sockserve_armv7   := 25804

# Install layout, GNU names. The binary goes to BINDIR; a distribution that
# keeps it out of PATH (upstream's is /usr/lib/systemd/systemd-ssh-proxy) passes
# BINDIR='$(LIBEXECDIR)' or any directory, and every installed file names it.
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
# ssh-sockserve is a daemon that init or root starts, like sshd: sbin, and not
# moved when BINDIR moves the proxy out of PATH.
SBINDIR     ?= $(PREFIX)/sbin
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
CARGO_HOME  ?= $(HOME)/.cargo
# The cargo options that build for architecture $(1): its triple, and the
# absolute paths rustc sees (the dependencies' sources; ours are relative)
# mapped to fixed names, so that where the build ran leaves no trace in the
# binary (make repro).
for_arch     = --target $(TRIPLE_$(1)) --config 'target.$(TRIPLE_$(1)).rustflags=["--remap-path-prefix=$(CURDIR)=/ssh-sockproxy", "--remap-path-prefix=$(CARGO_HOME)=/cargo"]'

# `make test`, `make size` and `make vm-test` take every architecture, or
# only ARCH when it is given.
ifeq ($(origin ARCH),command line)
SELECTED    := $(ARCH)
else
SELECTED    := $(ARCHES)
endif

.PHONY: build build-all build-selected test test-all test-selected blackbox size lint no-panic repro dist demo \
	install install-dracut install-mkinitcpio uninstall clean prerequisites

# What demo and test need and a fresh Debian or Ubuntu machine lacks: the
# product's rustup targets and the lint components, and the Debian packages
# (apt-get as root; as another user it prints the command and stops). Quiet
# when nothing is missing (tests/prerequisites.sh lists what is for what).
prerequisites:
	@sh tests/prerequisites.sh

# ARCH's binaries, every [[bin]], in target/<triple>/release/.
build:
	$(CARGO) build --release --locked --bins $(call for_arch,$(ARCH))

# Every architecture's, in one cargo run.
build-all:
	$(CARGO) build --release --locked --bins $(foreach a,$(ARCHES),$(call for_arch,$(a)))

build-selected:
	$(CARGO) build --release --locked --bins $(foreach a,$(sort x86_64 $(SELECTED)),$(call for_arch,$(a)))

# Everything, for every architecture (needs root for sshd and mount
# namespaces): the lint first (it is quick), the unit tests of the library,
# the black-box tests of each architecture's binaries (blackbox), the
# nested-VM vsock tests (vm-test), the fuzz and bench smoke runs, and the
# size, panic-site and reproducibility checks. With ARCH given, only that
# architecture's black-box and VM tests and sizes.
ifeq ($(origin ARCH),command line)
test: test-selected
else
test: test-all
endif

test-all: prerequisites lint build-all paramiko
	$(CARGO) test --release --locked --lib
	@set -e; for arch in $(ARCHES); do $(MAKE) --no-print-directory blackbox ARCH=$$arch; done
	$(MAKE) --no-print-directory deb-test
	$(MAKE) --no-print-directory vm-test
	$(MAKE) --no-print-directory fuzz-smoke
	$(MAKE) --no-print-directory bench-smoke
	$(MAKE) --no-print-directory size
	$(MAKE) --no-print-directory no-panic
	$(MAKE) --no-print-directory repro

test-selected: prerequisites build-selected paramiko
	$(MAKE) --no-print-directory blackbox
	$(MAKE) --no-print-directory vm-test
	$(MAKE) --no-print-directory size

# The black-box tests (tests/blackbox/: real sockets, strace-faked vsock, real
# ssh/sshd) against ARCH's binaries, which they find in
# $$SSH_SOCKPROXY_BIN_DIR: on x86-64 every one of them. For another
# architecture that directory holds a script per binary that execs
# qemu-<arch> on it, and every test runs but those in EMULATED_SKIP, which
# would test qemu-user rather than the binary, or the architecture-neutral
# install:
# - descriptors::a_small_descriptor_table_...: qemu-user (and the script's
#   sh) need descriptors of their own before the binary runs;
# - faults::every_descriptor_is_cloexec traces every descriptor the process
#   opens, which under emulation are qemu-user's too;
# - install::: `make install`, the drop-in, the man page, the initrd and the
#   image do not depend on the architecture (the image is built for each one
#   from `make dist` in the x86-64 run, and run for x86-64);
# - cli::print_ssh_config_from_a_deleted_binary_is_refused runs a deleted
#   copy of the binary by execveat; under emulation that copy is the script
#   that execs qemu-user, not the binary;
# - faults::wait_after_the_handoff injects faults by syscall count (when=),
#   which qemu-user's own reads and polls shift;
# - faults::without_close_range_...: checks the sequence of close calls,
#   among which qemu-user makes its own;
# - serve::children::a_child_gets_std_fds_...: reads the dispositions the
#   server inherited from /proc/PID/status, which under emulation are
#   qemu-user's own (it keeps the guest's in its bookkeeping);
# - paramiko::paramiko_fails_cleanly_on_a_missing_target expects the client
#   script's line last on stderr, after Paramiko's transport thread has
#   logged; with the proxy exiting later under emulation, the thread
#   sometimes logs after it.
# TESTS=... (cargo test's filters) picks tests by name.
EMULATED_SKIP := descriptors::a_small_descriptor_table_fails_cleanly_or_hands_off faults::every_descriptor_is_cloexec \
	install:: paramiko::paramiko_fails_cleanly_on_a_missing_target cli::print_ssh_config_from_a_deleted_binary_is_refused \
	serve::children::a_child_gets_std_fds_default_signals_an_empty_mask_and_its_own_session faults::wait_after_the_handoff \
	faults::without_close_range_inherited_descriptors_are_closed_one_by_one
TESTS ?=
ifeq ($(ARCH),x86_64)
TEST_BIN_DIR := $(abspath $(OUT))
SKIP         :=
else
TEST_BIN_DIR := $(abspath target/qemu-user/$(ARCH))
SKIP         := $(EMULATED_SKIP)
endif
# The install tests run the drop-in generator, and their image holds every
# architecture's binary (make dist), so for x86-64 every one is built.
blackbox: $(if $(filter x86_64,$(ARCH)),build-all,build) dropin paramiko
ifneq ($(ARCH),x86_64)
	@mkdir -p $(TEST_BIN_DIR)
	@for bin in $(BINS); do \
		printf '#!/bin/sh\nexec %s %s "$$@"\n' '$(QEMU_$(ARCH))' "'$(abspath $(OUT))/$$bin'" > $(TEST_BIN_DIR)/$$bin.tmp && \
		chmod 0755 $(TEST_BIN_DIR)/$$bin.tmp && mv $(TEST_BIN_DIR)/$$bin.tmp $(TEST_BIN_DIR)/$$bin || exit 1; \
	done
endif
	SSH_SOCKPROXY_BIN_DIR='$(TEST_BIN_DIR)' $(CARGO) test --release --locked --test blackbox -- $(TESTS) \
		$(addprefix --skip ,$(SKIP))

# rustfmt (rustfmt.toml) over the crate and the fuzz crate, clippy with
# warnings as errors over every target for the build host and over the
# library and binaries for each architecture (src/lib.rs denies clippy's
# panicking lints for the whole product), and no import cycle among src/
# modules.
lint:
	$(CARGO) fmt --check
	$(CARGO) fmt --check --manifest-path tests/fuzz/Cargo.toml
	$(CARGO) clippy --release --all-targets --locked -- -D warnings
	$(CARGO) clippy --release --locked --lib --bins $(foreach a,$(ARCHES),--target $(TRIPLE_$(a))) -- -D warnings
	python3 tests/lint/import_cycles.py --self-test
	python3 tests/lint/import_cycles.py src

# Every panic call site left in the x86-64 release binaries, against the lists
# in tests/no-panic/allowed and allowed-sockserve (each there with why it
# cannot be reached): the
# same release build again into its own target dir, with symbols and line
# tables; check.py first makes sure that its code is byte for byte the
# shipped one's. The other architectures compile the same source, and the
# host's binutils read only x86-64.
NO_PANIC_DIR := target/no-panic
no-panic:
	$(MAKE) --no-print-directory build ARCH=x86_64
	CARGO_PROFILE_RELEASE_STRIP=false CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
		$(CARGO) build --release --locked --quiet --bins $(call for_arch,x86_64) --target-dir $(NO_PANIC_DIR)
	python3 tests/no-panic/check.py $(NO_PANIC_DIR)/$(TRIPLE_x86_64)/release/ssh-sockproxy \
		$(call out_of,x86_64)/ssh-sockproxy tests/no-panic/allowed
	python3 tests/no-panic/check.py $(NO_PANIC_DIR)/$(TRIPLE_x86_64)/release/ssh-sockserve \
		$(call out_of,x86_64)/ssh-sockserve tests/no-panic/allowed-sockserve

# Paramiko and ansible-pylibssh (libssh), real ssh clients without fd passing,
# for the relay tests: a venv from PyPI with the pinned versions in
# tests/paramiko/requirements.txt.
PARAMIKO := target/paramiko
.PHONY: paramiko
paramiko: $(PARAMIKO)/installed
$(PARAMIKO)/installed: tests/paramiko/requirements.txt
	rm -rf $(PARAMIKO)
	python3 -m venv $(PARAMIKO)
	$(PARAMIKO)/bin/pip install --quiet --disable-pip-version-check -r tests/paramiko/requirements.txt
	touch $@

# The end-to-end vsock tests (tests/vm/): each architecture's Debian kernel
# under QEMU with vhost-device-vsock, that architecture's binary in the guest
# and the x86-64 one on the host, which they find in
# $$SSH_SOCKPROXY_BIN_DIR_<arch>; with ARCH given, only that guest. One guest
# at a time: the machine has two cores. Artefacts are cached in
# $$SSH_SOCKPROXY_VM_CACHE, by default ~/.cache/ssh-sockproxy-vm; the first run
# fetches them (about 20 s per architecture) and builds the vsock backend
# (about a minute).
.PHONY: vm-test
vm-test: build-selected
	$(foreach a,$(sort x86_64 $(SELECTED)),SSH_SOCKPROXY_BIN_DIR_$(a)='$(abspath $(call out_of,$(a)))') \
		$(CARGO) test --release --locked --test vm -- $(if $(filter command line,$(origin ARCH)),guest_$(ARCH))

# Fuzzing (tests/fuzz): each cargo-fuzz target for FUZZ_SECONDS, from the seed
# corpus in tests/fuzz/seeds/TARGET plus what earlier runs found in
# tests/fuzz/corpus/TARGET; prints how many inputs each one ran. cargo-fuzz is
# built once into target/tools. It needs nightly features (-Zsanitizer):
# RUSTC_BOOTSTRAP=1 lets the stable toolchain build the fuzz targets, and only
# them; the product never builds with it.
CARGO_FUZZ   := target/tools/bin/cargo-fuzz
FUZZ_TARGETS := host_grammar numbers mux_reply json_reader serve_grammar
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

# Each binary of each selected architecture: an ELF executable (not PIE),
# statically linked, stripped, and no larger than its BUDGET_<binary>_<arch>.
size_check = f=$(call out_of,$(1))/$(2); budget='$(BUDGET_$(2)_$(1))'; kind=$$(LC_ALL=C file -b "$$f"); \
	size=$$(stat -c %s "$$f") || exit 1; \
	case "$$kind" in *' executable, '*'statically linked'*', stripped') ;; \
		*) echo "size: $$f is not a static, non-PIE, stripped executable: $$kind"; exit 1 ;; esac; \
	if [ -z "$$budget" ]; then echo "size: $$f: no BUDGET_$(2)_$(1) in the Makefile"; exit 1; fi; \
	echo "size: $$f is $$size bytes, static (budget $$budget)"; \
	if [ "$$size" -gt "$$budget" ]; then echo "size: over budget by $$((size - budget)) bytes"; exit 1; fi
size: build-selected
	@$(foreach a,$(SELECTED),$(foreach b,$(BINS),( $(call size_check,$(a),$(b)) ) &&)) true

# The release binaries for every architecture, as
# target/dist/BINARY-VERSION-ARCH, with the ssh_config drop-in for a binary
# in /usr/bin (what the image of src/dist/Containerfile holds) and
# SHA256SUMS of them all.
DIST ?= target/dist
dist: build-all dropin
	rm -rf '$(DIST)'
	mkdir -p '$(DIST)'
	$(foreach a,$(ARCHES),$(foreach b,$(BINS),install -m 0755 $(call out_of,$(a))/$(b) '$(DIST)/$(b)-$(VERSION)-$(a)' &&)) true
	$(DROPIN) /usr/bin/ssh-sockproxy > '$(DIST)/20-ssh-sockproxy.conf'
	cd '$(DIST)' && files=$$(ls) && sha256sum $$files > SHA256SUMS
	@cat '$(DIST)/SHA256SUMS'

# A Debian package per architecture, target/dist/ssh-sockproxy_VERSION_DEBARCH.deb:
# ARCH's `make install` tree for /usr, made into a package by
# src/dist/deb/build.sh with dpkg-deb.
DEB_ARCH_x86_64  := amd64
DEB_ARCH_aarch64 := arm64
DEB_ARCH_riscv64 := riscv64
DEB_ARCH_armv7   := armhf
deb_tree         = target/deb/$(1)
.PHONY: deb deb-test
# tests/deb: the packages, lintian, reproducibility, and dpkg -i, a login, dpkg
# -r and --purge on this machine (as root). One test at a time: both build
# the packages in target/deb/.
deb-test: build-all
	$(CARGO) test --release --locked --test deb -- --test-threads=1

deb: build-all dropin
	@mkdir -p '$(DIST)'
	@$(foreach a,$(ARCHES),rm -rf $(call deb_tree,$(a)) && \
		$(MAKE) --no-print-directory install ARCH=$(a) BIN=$(call out_of,$(a))/ssh-sockproxy \
			SERVE_BIN=$(call out_of,$(a))/ssh-sockserve DESTDIR='$(abspath $(call deb_tree,$(a)))' PREFIX=/usr \
			SYSCONFDIR=/etc FORCE= >/dev/null && \
		sh src/dist/deb/build.sh $(call deb_tree,$(a)) $(VERSION) $(DEB_ARCH_$(a)) \
			'$(DIST)/ssh-sockproxy_$(VERSION)_$(DEB_ARCH_$(a)).deb' &&) true

# Reproducible builds: REPRO_ARCH's binaries (x86-64's by default) built from
# scratch in two fresh copies of the sources (the files git tracks) in
# directories of their own, at paths of different lengths, must be byte for
# byte the ones built here.
REPRO_ARCH ?= x86_64
repro:
	$(MAKE) --no-print-directory build ARCH=$(REPRO_ARCH)
	@set -e; base=$$(mktemp -d); trap 'rm -rf "$$base"' EXIT; \
	for copy in one a/longer/path/two; do \
		dir=$$base/$$copy/ssh-sockproxy; mkdir -p $$dir; \
		git ls-files -z --cached --others --exclude-standard | tar --null -T - --ignore-failed-read -cf - | tar -C $$dir -xf -; \
		echo "repro: building $(BINS) for $(REPRO_ARCH) in $$dir"; \
		env -u CARGO_TARGET_DIR $(MAKE) --no-print-directory -C $$dir build ARCH=$(REPRO_ARCH) CARGO_HOME='$(CARGO_HOME)' \
			>$$base/build.log 2>&1 || { tail -n 30 $$base/build.log; exit 1; }; \
		for bin in $(BINS); do \
			cmp $(call out_of,$(REPRO_ARCH))/$$bin $$dir/$(call out_of,$(REPRO_ARCH))/$$bin \
				|| { echo "repro: $$bin differs when built in $$dir"; exit 1; }; \
		done; \
	done; \
	echo "repro: the same bytes from both copies as from this tree"

# A throwaway sshd behind an AF_UNIX socket and a real ssh login through the
# proxy (the x86-64 one, which runs here).
demo: prerequisites
	$(MAKE) --no-print-directory build ARCH=x86_64
	$(CARGO) run --release --locked --quiet --example demo -- $(abspath $(call out_of,x86_64)/ssh-sockproxy)

# Performance (tests/bench/, docs/performance.md): start-up cost against a no_std
# no-op floor, /bin/true, socat and systemd-ssh-proxy where present, syscalls,
# peak RSS, size, hand-offs per second; then BENCH_MIB MiB through real ssh
# by fd passing, by relay and by socat; then ssh-sockserve against socat and
# systemd-socket-activate (connect to sshd's banner, connections per second,
# memory). Root for sshd. No timing is asserted.
# The x86-64 binaries: the floor is built like them, the harness for the host.
BENCH_RUNS  ?= 300
BENCH_BATCH ?= 640
BENCH_REPS  ?= 3
BENCH_MIB   ?= 512
BENCH_NOOP  := $(call out_of,x86_64)/examples/bench-noop
bench_run    = BENCH_RUNS='$(BENCH_RUNS)' BENCH_BATCH='$(BENCH_BATCH)' BENCH_REPS='$(BENCH_REPS)' BENCH_MIB='$(BENCH_MIB)' \
	target/release/examples/bench $(1) $(abspath $(call out_of,x86_64)/ssh-sockproxy) $(abspath $(BENCH_NOOP)) \
	$(abspath $(call out_of,x86_64)/ssh-sockserve)

.PHONY: bench bench-startup bench-throughput bench-serve bench-build
bench-build: prerequisites
	$(MAKE) --no-print-directory build ARCH=x86_64
	$(CARGO) build --release --locked --example bench
	$(CARGO) build --release --locked --example bench-noop $(call for_arch,x86_64)

bench: bench-build
	$(call bench_run,all)

bench-startup: bench-build
	$(call bench_run,startup)

bench-throughput: bench-build
	$(call bench_run,throughput)

bench-serve: bench-build
	$(call bench_run,serve)

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
with_filled = t=$$(mktemp) && { sh src/dist/fill.sh "$(BINDIR)/ssh-sockproxy" "$(SSHCONF)" "$(SBINDIR)/ssh-sockserve" < $(1) > "$$t" && $(2); s=$$?; rm -f "$$t"; exit $$s; }
# $(call with_dropin,COMMAND) likewise with $$t naming the ssh_config drop-in
# for the installed binary, written by the library's own fragment and quoting
# rule (src/dist/dropin.rs, a cargo example built for and run on the build
# host, whatever ARCH is).
DROPIN      := target/release/examples/dropin
with_dropin = t=$$(mktemp) && { $(DROPIN) "$(BINDIR)/ssh-sockproxy" > "$$t" && $(1); s=$$?; rm -f "$$t"; exit $$s; }
conffile = FORCE='$(FORCE)' sh src/dist/conffile.sh $(1) "$$t" "$(DESTDIR)$(SSHCONF)" "$(DESTDIR)$(SSHCONF_PRISTINE)"

.PHONY: dropin
dropin:
	$(CARGO) build --release --locked --quiet --example dropin

# ARCH's binaries, their man pages and the ssh_config drop-in.
install: build dropin
	install -D -m 0755 $(BIN) "$(DESTDIR)$(BINDIR)/ssh-sockproxy"
	install -D -m 0755 $(SERVE_BIN) "$(DESTDIR)$(SBINDIR)/ssh-sockserve"
	install -D -m 0644 src/dist/ssh-sockproxy.1 "$(DESTDIR)$(MANDIR)/man1/ssh-sockproxy.1"
	install -D -m 0644 src/dist/ssh-sockserve.1 "$(DESTDIR)$(MANDIR)/man1/ssh-sockserve.1"
	$(call with_dropin,$(call conffile,install))

# Initrd builders' hooks for what `install` puts in place (give both the same
# variables): one for the proxy and its drop-in, one for ssh-sockserve; each
# goes into an image only on request.
install-dracut:
	$(call with_filled,src/dist/dracut/90ssh-sockproxy/module-setup.sh.in,install -D -m 0755 "$$t" "$(DESTDIR)$(DRACUTDIR)/90ssh-sockproxy/module-setup.sh")
	$(call with_filled,src/dist/dracut/90ssh-sockserve/module-setup.sh.in,install -D -m 0755 "$$t" "$(DESTDIR)$(DRACUTDIR)/90ssh-sockserve/module-setup.sh")

install-mkinitcpio:
	$(call with_filled,src/dist/mkinitcpio/ssh-sockproxy.in,install -D -m 0644 "$$t" "$(DESTDIR)$(INITCPIODIR)/ssh-sockproxy")
	$(call with_filled,src/dist/mkinitcpio/ssh-sockserve.in,install -D -m 0644 "$$t" "$(DESTDIR)$(INITCPIODIR)/ssh-sockserve")

uninstall: dropin
	rm -f "$(DESTDIR)$(BINDIR)/ssh-sockproxy" "$(DESTDIR)$(SBINDIR)/ssh-sockserve" \
		"$(DESTDIR)$(MANDIR)/man1/ssh-sockproxy.1" "$(DESTDIR)$(MANDIR)/man1/ssh-sockserve.1" \
		"$(DESTDIR)$(DRACUTDIR)/90ssh-sockproxy/module-setup.sh" "$(DESTDIR)$(INITCPIODIR)/ssh-sockproxy" \
		"$(DESTDIR)$(DRACUTDIR)/90ssh-sockserve/module-setup.sh" "$(DESTDIR)$(INITCPIODIR)/ssh-sockserve"
	rmdir "$(DESTDIR)$(DRACUTDIR)/90ssh-sockproxy" "$(DESTDIR)$(DRACUTDIR)/90ssh-sockserve" 2>/dev/null || true
	$(call with_dropin,$(call conffile,remove))
	rmdir "$(DESTDIR)$(DATADIR)/ssh-sockproxy" 2>/dev/null || true

clean:
	$(CARGO) clean
