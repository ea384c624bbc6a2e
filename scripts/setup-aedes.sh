#!/bin/sh
# Installs the second MQTT broker used by the WebSocket tests (aedes and ws,
# exact versions from tests/mqtt_secure/package-lock.json) into
# tests/mqtt_secure/node_modules. Needs Node.js >= 16 and npm (Debian:
# apt-get install nodejs npm) and the npm registry. Idempotent: does nothing
# when the installed tree already matches the lock file.
set -eu
dir=$(cd "$(dirname "$0")/../tests/mqtt_secure" && pwd)
for tool in node npm; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "setup-aedes: $tool is not installed (apt-get install nodejs npm)" >&2
        exit 1
    fi
done
stamp="$dir/node_modules/.edgeferry-lock"
if [ -f "$stamp" ] && cmp -s "$stamp" "$dir/package-lock.json"; then
    exit 0
fi
# npm ci: exactly the lock file, no version resolution, no changes to it.
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
cp "$dir/package-lock.json" "$stamp"
echo "setup-aedes: aedes installed in $dir/node_modules"
