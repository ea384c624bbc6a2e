#!/bin/sh
# cmake --install into a scratch DESTDIR, twice: the files land where systemd
# and the documentation say, the unit's ExecStart follows the prefix, and the
# second install keeps an edited /etc/edgeferry/edgeferry.ini.
#   install_check.sh BUILD_DIR
set -eu
build=$1
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
DESTDIR=$d cmake --install "$build" --prefix /opt/ef >/dev/null
for f in opt/ef/bin/edgeferry opt/ef/lib/systemd/system/edgeferry.service \
         opt/ef/lib/sysusers.d/edgeferry.conf etc/edgeferry/edgeferry.ini \
         opt/ef/share/doc/edgeferry/README.md; do
    [ -f "$d/$f" ] || { echo "missing $f"; exit 1; }
done
grep -qx 'ExecStart=/opt/ef/bin/edgeferry -c /etc/edgeferry/edgeferry.ini' \
    "$d/opt/ef/lib/systemd/system/edgeferry.service" || {
    grep ExecStart "$d/opt/ef/lib/systemd/system/edgeferry.service"; exit 1; }
"$d/opt/ef/bin/edgeferry" --check -c "$d/etc/edgeferry/edgeferry.ini" >/dev/null

echo "; edited by the site" >>"$d/etc/edgeferry/edgeferry.ini"
DESTDIR=$d cmake --install "$build" --prefix /opt/ef >/dev/null
tail -n 1 "$d/etc/edgeferry/edgeferry.ini" | grep -qx '; edited by the site' || {
    echo "the edited configuration was overwritten"; exit 1; }
echo "install layout ok, edited configuration kept"
