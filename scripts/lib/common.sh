# scripts/lib/common.sh: shared helpers for zkguard's entry scripts (sourced, not run).
# Owns: locating the repo root, the native Foundry binaries and the solc shim, logging.
set -euo pipefail

ZKGUARD_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export ZKGUARD_ROOT
NATIVE_BIN="$ZKGUARD_ROOT/node_modules/.zkguard-bin"
# Native binaries only: the node_modules/.bin launchers exit 0 even when a test fails.
FORGE="$ZKGUARD_ROOT/node_modules/@foundry-rs/forge-linux-amd64/bin/forge"
ANVIL="$ZKGUARD_ROOT/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
CAST="$ZKGUARD_ROOT/node_modules/@foundry-rs/cast-linux-amd64/bin/cast"
export FORGE ANVIL CAST
export PATH="$NATIVE_BIN:$PATH"

stage_start=$(date +%s)
log() { printf '\033[1;34m[zkguard]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[zkguard] error:\033[0m %s\n' "$*" >&2; exit 1; }
# stage NAME: prints the elapsed time of the previous stage and starts a new one.
stage() {
  local now; now=$(date +%s)
  log "$* (t+$((now - script_start))s)"
  stage_start=$now
}
script_start=$(date +%s)

need() { command -v "$1" >/dev/null 2>&1 || die "$1 is required but not on PATH ($2)"; }

# free_port: asks the kernel for a free loopback port.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
