#!/bin/sh
# Checks the rules of docs/architecture.md on the source tree:
#  - each room includes only the project headers its row allows;
#  - no daemon source file (outside tests/ and bench/) is over 500 lines.
# Prints every violation and exits 1 if there is any.
set -eu
cd "${1:-$(dirname "$0")/../..}"
fail=0

# allowed ROOM PREFIX...: files under ROOM may include project headers only
# from the listed prefixes (their own room is always allowed).
allowed() {
    room=$1; shift
    for f in $(find "$room" -maxdepth 1 -name '*.[ch]'); do
        grep -o '^#include "[^"]*"' "$f" | sed 's/#include "\(.*\)"/\1/' | while read -r inc; do
            ok=0
            case $inc in "$room"/*) ok=1 ;; esac
            for p in "$@"; do
                case $inc in "$p"*) ok=1 ;; esac
            done
            if [ $ok -eq 0 ]; then
                echo "$f includes $inc, which $room/ may not use (docs/architecture.md)"
                echo x >>"$tmp"
            fi
        done
    done
}
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
allowed common
allowed config common/
allowed drivers config/ common/
allowed drivers/modbus drivers/source.h config/ common/
allowed drivers/serial drivers/source.h config/ common/
allowed gateway/queue config/ common/
allowed gateway/north drivers/source.h config/ common/
allowed gateway/sparkplug gateway/north/ drivers/source.h config/ common/
allowed gateway/core gateway/sparkplug/ gateway/north/ gateway/queue/ drivers/source.h config/ common/
allowed gateway/mqtt gateway/queue/ config/ common/
allowed gateway/web gateway/north/ drivers/source.h config/ common/
allowed gateway/command gateway/north/ drivers/source.h config/ common/
allowed gateway gateway/ drivers/ config/ common/
# Rooms that later parts add must be listed here before they are used.
for d in gateway/*/; do
    d=${d%/}
    case $d in
        gateway/queue|gateway/north|gateway/sparkplug|gateway/core|gateway/mqtt|gateway/command|gateway/web) ;;
        *) echo "$d/ is not a room of docs/architecture.md (add it there and here)"; echo x >>"$tmp" ;;
    esac
done
[ -s "$tmp" ] && fail=1

files=$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*' | sed 's|^\./||')
long=$(echo "$files" | grep -vE '^(tests|bench)/' | xargs -r wc -l |
       awk '$2 != "total" && $1 > 500 {printf "%s has %d lines (limit 500)\n", $2, $1}')
if [ -n "$long" ]; then
    echo "$long"
    fail=1
fi
[ $fail -eq 0 ] && echo "layout: every room includes only what docs/architecture.md allows; no daemon file over 500 lines"
exit $fail
