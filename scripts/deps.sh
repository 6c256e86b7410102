#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine: node (runs the
# WebAssembly tests through go_js_wasm_exec), Debian's chromium (browser
# end-to-end tests) and, with npm, axe-core at the version
# tests/a11y/package-lock.json pins (the accessibility test). Idempotent;
# needs root for apt-get.
set -euo pipefail
need=()
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
	echo "deps: installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${need[@]}" >/dev/null
fi
node --version >/dev/null
/usr/bin/chromium --version
cd "$(dirname "$0")/../tests/a11y"
if [ ! -f node_modules/axe-core/axe.min.js ]; then
	echo "deps: installing axe-core (tests/a11y)"
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
fi
