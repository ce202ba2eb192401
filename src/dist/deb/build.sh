#!/bin/sh
# Makes a .deb of a `make install DESTDIR=TREE PREFIX=/usr` tree (make deb):
#   build.sh TREE VERSION DEBARCH OUT
# dpkg-deb builds the archive; this adds what Debian policy asks of the tree:
# compressed man pages, the copyright and changelog, the drop-in as a
# conffile (dpkg keeps an admin's edits, so install's pristine copy goes),
# md5sums, and file times from the changelog's date, so that two builds of
# the same sources give the same bytes.
set -eu

[ $# -eq 4 ] || { echo "usage: build.sh TREE VERSION DEBARCH OUT" >&2; exit 2; }
tree=$1 version=$2 arch=$3 out=$4
here=$(dirname "$0")
doc=$tree/usr/share/doc/ssh-sockproxy

changelog_version=$(sed -n '1s/^ssh-sockproxy (\([^)]*\)).*/\1/p' "$here/changelog")
[ "$changelog_version" = "$version" ] || {
    echo "build.sh: src/dist/deb/changelog is for $changelog_version, the package is $version" >&2
    exit 1
}
SOURCE_DATE_EPOCH=$(date -d "$(sed -n 's/^ -- .*>  //p' "$here/changelog" | head -n 1)" +%s)
export SOURCE_DATE_EPOCH

rm -rf "$tree/usr/share/ssh-sockproxy" "$tree/DEBIAN"
gzip -9n "$tree"/usr/share/man/man1/*.1
install -D -m 0644 "$here/copyright" "$doc/copyright"
gzip -9n < "$here/changelog" > "$doc/changelog.gz"
install -D -m 0644 "$here/lintian-overrides" "$tree/usr/share/lintian/overrides/ssh-sockproxy"
chmod 0644 "$doc/changelog.gz"

mkdir -p "$tree/DEBIAN"
(cd "$tree" && find etc -type f | sed 's|^|/|' | sort) > "$tree/DEBIAN/conffiles"
(cd "$tree" && find usr -type f | sort | xargs md5sum) > "$tree/DEBIAN/md5sums"
size=$(du -sk --apparent-size --exclude=DEBIAN "$tree" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" "$here/control.in" > "$tree/DEBIAN/control"
chmod 0644 "$tree/DEBIAN/control" "$tree/DEBIAN/conffiles" "$tree/DEBIAN/md5sums"
find "$tree" -type d -exec chmod 0755 {} +
find "$tree" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

dpkg-deb --root-owner-group -Zxz --build "$tree" "$out" >/dev/null
echo "deb: $out"
