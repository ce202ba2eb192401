#!/bin/sh
# Fills a template on stdin with installed paths: fill.sh BIN SSHCONF SERVE_BIN < TEMPLATE > OUT.
#   @BIN@        BIN as is (templates put it in single quotes for sh)
#   @SSHCONF@    SSHCONF, the installed ssh_config drop-in, as is
#   @SERVE_BIN@  SERVE_BIN, the installed ssh-sockserve, as is
# (The drop-in itself is written by src/dist/dropin.rs, which quotes BIN for
# ssh_config with the library's rule.)
# Runs nothing it installs, so cross-builds and packagers can use it.
set -eu
export LC_ALL=C

[ $# -eq 3 ] || { echo "usage: fill.sh BIN SSHCONF SERVE_BIN < TEMPLATE" >&2; exit 2; }
for path in "$1" "$2" "$3"; do
    case $path in
        /*) ;;
        *) echo "fill.sh: not an absolute path: $path" >&2; exit 1 ;;
    esac
    case $path in
        *\'* | *[[:cntrl:]]*)
            echo "fill.sh: a path with a quote or a control character cannot go in these scripts: $path" >&2
            exit 1 ;;
    esac
done
bin=$1
sshconf=$2
serve_bin=$3

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
    replace "$line" @BIN@ "$bin"
    replace "$out" @SSHCONF@ "$sshconf"
    replace "$out" @SERVE_BIN@ "$serve_bin"
    printf '%s\n' "$out"
done
