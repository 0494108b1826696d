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

step() { printf '\n==> %s\n' "$*" >&2; }
