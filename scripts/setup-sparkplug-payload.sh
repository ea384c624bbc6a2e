#!/bin/sh
# Installs Eclipse Tahu's sparkplug-payload (and protobufjs, long), the
# independent decoder of the Sparkplug tests, exact versions from
# tests/sparkplug/package-lock.json, into
# tests/sparkplug/node_modules. Needs Node.js >= 16 and npm (Debian:
# apt-get install nodejs npm) and the npm registry. Idempotent: does nothing
# when the installed tree already matches the lock file.
set -eu
dir=$(cd "$(dirname "$0")/../tests/sparkplug" && pwd)
for tool in node npm; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "setup-sparkplug-payload: $tool is not installed (apt-get install nodejs npm)" >&2
        exit 1
    fi
done
stamp="$dir/node_modules/.edgeferry-lock"
if [ -f "$stamp" ] && cmp -s "$stamp" "$dir/package-lock.json"; then
    exit 0
fi
# npm ci: exactly the lock file, no version resolution, no changes to it.
(cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
cp "$dir/package-lock.json" "$stamp"
echo "setup-sparkplug-payload: sparkplug-payload installed in $dir/node_modules"
