# Sourced by the other scripts: where things live.
#
# Build output and installed tools live outside the clone, in $AUTOMCP_CACHE
# (default ~/.cache/automcp), so a fresh clone on a warm machine reuses them.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export AUTOMCP_CACHE="${AUTOMCP_CACHE:-$HOME/.cache/automcp}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$AUTOMCP_CACHE/target}"
export TOOLS="$AUTOMCP_CACHE/tools"
export PATH="$TOOLS/bin:$ROOT/style/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# Same value as .cargo/config.toml; set here too for tools that read the env.
export LEPTOS_OUTPUT_NAME=automcp
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

# A fresh clone never reuses incremental state (its path differs), so in CI
# it would only pile up on disk.
[ "${CI:-}" = "true" ] && export CARGO_INCREMENTAL=0

step() { printf '\n==> %s\n' "$*" >&2; }

# Our own crates' artifacts from earlier clones: each clone path hashes to new
# file names, so without this every CI run would leave gigabytes behind.
# Dependencies (the expensive part of the cache) are kept.
prune_own_artifacts() {
  local names="app server automcp bench_mcp bench_replicas" t
  for t in "$ROOT"/server/tests/*.rs; do names="$names $(basename "$t" .rs)"; done
  for dir in "$CARGO_TARGET_DIR"/{debug,release,wasm-release}/deps "$CARGO_TARGET_DIR"/wasm32-unknown-unknown/*/deps; do
    [ -d "$dir" ] || continue
    for name in $names; do rm -f "$dir/$name-"* "$dir/lib$name-"*; done
  done
  rm -rf "$CARGO_TARGET_DIR"/{debug,release}/incremental
}

# The server test binaries that run again on PostgreSQL: every one that starts
# the app (the store_* tests already run on both backends, replicas always
# runs on PostgreSQL; cli and standalone use no shared database).
postgres_suites() {
  local file name
  for file in "$ROOT"/server/tests/*.rs; do
    name=$(basename "$file" .rs)
    case "$name" in
      store_*|oauth_store|postgres|replicas|cli|standalone) ;;
      *) printf -- '--test %s ' "$name" ;;
    esac
  done
}
