# ssh-sockproxy: build, test and install the static musl binary.

TARGET      := x86_64-unknown-linux-musl
BIN         := target/$(TARGET)/release/ssh-sockproxy
# Bytes the stripped binary may take; `make size` (part of `make test`) fails above it.
# 31 KiB: the 30,784 bytes measured after the size work (no libc, no unwind
# tables, compressed long texts, leaner code), plus less than 1 KiB of room.
SIZE_BUDGET := 31744

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

.PHONY: build test unit size demo install install-dracut install-mkinitcpio uninstall clean

build:
	$(CARGO) build --release --locked

# Unit tests of the library, black-box tests of the release binary (real
# sockets, strace-faked vsock, real ssh/sshd) and the nested-VM vsock tests
# (vm-test); needs root for sshd and mount namespaces. Then the size check.
test: build
	$(CARGO) test --release --locked
	$(MAKE) --no-print-directory size

# Only the end-to-end vsock tests: a guest kernel under QEMU with vhost-device-vsock
# (tests/vm/). Artefacts are cached in $SSH_SOCKPROXY_VM_CACHE, by default
# ~/.cache/ssh-sockproxy-vm; the first run builds them in about a minute.
.PHONY: vm-test
vm-test: build
	$(CARGO) test --release --locked --test vm

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

# $(call with_filled,TEMPLATE,COMMAND) runs COMMAND with $$t naming a copy of
# TEMPLATE filled in with the installed paths (src/dist/fill.sh; the binary is
# not run, so this works for cross-builds too).
with_filled = t=$$(mktemp) && { sh src/dist/fill.sh "$(BINDIR)/ssh-sockproxy" "$(SSHCONF)" < $(1) > "$$t" && $(2); s=$$?; rm -f "$$t"; exit $$s; }
conffile = FORCE='$(FORCE)' sh src/dist/conffile.sh $(1) "$$t" "$(DESTDIR)$(SSHCONF)" "$(DESTDIR)$(SSHCONF_PRISTINE)"

# The binary, its man page and the ssh_config drop-in.
install: build
	install -D -m 0755 $(BIN) "$(DESTDIR)$(BINDIR)/ssh-sockproxy"
	install -D -m 0644 src/dist/ssh-sockproxy.1 "$(DESTDIR)$(MANDIR)/man1/ssh-sockproxy.1"
	$(call with_filled,src/dist/ssh-sockproxy.conf.in,$(call conffile,install))

# Initrd builders' hooks for what `install` puts in place (give both the same variables).
install-dracut:
	$(call with_filled,src/dist/dracut/90ssh-sockproxy/module-setup.sh.in,install -D -m 0755 "$$t" "$(DESTDIR)$(DRACUTDIR)/90ssh-sockproxy/module-setup.sh")

install-mkinitcpio:
	$(call with_filled,src/dist/mkinitcpio/ssh-sockproxy.in,install -D -m 0644 "$$t" "$(DESTDIR)$(INITCPIODIR)/ssh-sockproxy")

uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/ssh-sockproxy" "$(DESTDIR)$(MANDIR)/man1/ssh-sockproxy.1" \
		"$(DESTDIR)$(DRACUTDIR)/90ssh-sockproxy/module-setup.sh" "$(DESTDIR)$(INITCPIODIR)/ssh-sockproxy"
	rmdir "$(DESTDIR)$(DRACUTDIR)/90ssh-sockproxy" 2>/dev/null || true
	$(call with_filled,src/dist/ssh-sockproxy.conf.in,$(call conffile,remove))
	rmdir "$(DESTDIR)$(DATADIR)/ssh-sockproxy" 2>/dev/null || true

clean:
	$(CARGO) clean
