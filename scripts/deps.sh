#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine: node (runs the
# WebAssembly tests through go_js_wasm_exec) and Debian's chromium (browser
# end-to-end tests). Idempotent; needs root for apt-get.
set -euo pipefail
need=()
command -v node >/dev/null 2>&1 || need+=(nodejs)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
	echo "deps: installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${need[@]}" >/dev/null
fi
node --version >/dev/null
/usr/bin/chromium --version
