#!/bin/sh
# Installs or removes the ssh_config drop-in without clobbering an admin's edits.
#   conffile.sh install NEW DST PRISTINE   NEW is the generated file; it becomes DST
#   conffile.sh remove NEW DST PRISTINE    NEW is the generated file, only compared
# DST is ours when it equals NEW or PRISTINE (the copy of what the last install
# wrote). Ours, missing, or FORCE=1: replaced or removed. Otherwise DST stays,
# and install leaves NEW beside it as DST.new (ssh includes only *.conf).
set -eu

[ $# -eq 4 ] || { echo "usage: conffile.sh install|remove NEW DST PRISTINE" >&2; exit 2; }
action=$1 new=$2 dst=$3 pristine=$4

ours() {
    [ "${FORCE:-}" = 1 ] || [ ! -e "$dst" ] || cmp -s "$dst" "$new" \
        || { [ -e "$pristine" ] && cmp -s "$dst" "$pristine"; }
}

case $action in
    install)
        mkdir -p "$(dirname "$dst")" "$(dirname "$pristine")"
        if ours; then
            install -m 0644 "$new" "$dst"
            rm -f "$dst.new"
        else
            install -m 0644 "$new" "$dst.new"
            echo "Kept $dst: changed since it was installed. The new version is $dst.new; FORCE=1 overwrites."
        fi
        install -m 0644 "$new" "$pristine"
        ;;
    remove)
        if ours; then
            rm -f "$dst"
        else
            echo "Kept $dst: changed since it was installed; FORCE=1 removes it."
        fi
        rm -f "$dst.new" "$pristine"
        ;;
    *) echo "conffile.sh: unknown action $action" >&2; exit 2 ;;
esac
