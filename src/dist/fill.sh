#!/bin/sh
# Fills a template on stdin with installed paths: fill.sh BIN SSHCONF < TEMPLATE > OUT.
#   @BIN@      BIN as is (templates put it in single quotes for sh)
#   @BIN_SSH@  BIN quoted as `ssh-sockproxy --print-ssh-config` quotes its own path
#              (src/ssh_config.rs): `%` doubled, in single quotes unless plain
#   @SSHCONF@  SSHCONF, the installed ssh_config drop-in, as is
# Runs nothing it installs, so cross-builds and packagers can use it.
set -eu
export LC_ALL=C

[ $# -eq 2 ] || { echo "usage: fill.sh BIN SSHCONF < TEMPLATE" >&2; exit 2; }
for path in "$1" "$2"; do
    case $path in
        /*) ;;
        *) echo "fill.sh: not an absolute path: $path" >&2; exit 1 ;;
    esac
    case $path in
        *\'* | *[[:cntrl:]]*)
            echo "fill.sh: a path with a quote or a control character cannot go in ssh_config: $path" >&2
            exit 1 ;;
    esac
done
bin=$1
sshconf=$2
bin_ssh=$(printf '%s\n' "$bin" | sed 's/%/%%/g')
case $bin in
    *[!A-Za-z0-9/._+,:@=%-]*) bin_ssh="'$bin_ssh'" ;;
esac

# replace TEXT TOKEN VALUE: every TOKEN in TEXT becomes VALUE, result in $out.
replace() {
    out= rest=$1
    while :; do
        case $rest in
            *"$2"*) out=$out${rest%%"$2"*}$3; rest=${rest#*"$2"} ;;
            *) out=$out$rest; return ;;
        esac
    done
}

while IFS= read -r line || [ -n "$line" ]; do
    replace "$line" @BIN_SSH@ "$bin_ssh"
    replace "$out" @BIN@ "$bin"
    replace "$out" @SSHCONF@ "$sshconf"
    printf '%s\n' "$out"
done
