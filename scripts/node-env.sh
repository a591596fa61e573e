# Sourced by every script that runs Node: puts the Node.js that .node-version pins first in PATH.
# A system Node of that major or newer is used as is; an older one (or none) gets the pinned
# release from the npm registry's node-<os>-<arch> package, installed once into the tools cache.
# The cache of built and downloaded tools, outside the clone (setup.sh keeps its builds there too).
TOOLS_CACHE="${MOVIE_CACHE_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/movie-cache-tools}"

use_pinned_node() {
  local root cache="$TOOLS_CACHE" want have dir os arch tmp
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  want="$(tr -d ' v\n' <"$root/.node-version")"
  have="$(node -p 'process.versions.node' 2>/dev/null || echo 0)"
  [ "${have%%.*}" -ge "${want%%.*}" ] && return 0
  dir="$cache/node-v$want"
  if [ ! -x "$dir/bin/node" ]; then
    os="$(uname -s | tr '[:upper:]' '[:lower:]')"
    case "$(uname -m)" in x86_64) arch=x64 ;; aarch64 | arm64) arch=arm64 ;; *) arch="$(uname -m)" ;; esac
    printf '\033[1msetup:\033[0m installing Node.js %s (node-%s-%s from the npm registry; system Node is %s)\n' \
      "$want" "$os" "$arch" "$have" >&2
    mkdir -p "$cache"
    tmp="$(mktemp -d "$cache/node-install.XXXXXX")"
    npm install --prefix "$tmp" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
      "node-$os-$arch@$want" >&2
    rm -rf "$dir"
    mv "$tmp/node_modules/node-$os-$arch" "$dir"
    rm -rf "$tmp"
  fi
  export PATH="$dir/bin:$PATH"
}
use_pinned_node

# The code is CommonJS and NestJS 12 is ESM: Jest loads ESM packages through require(esm), which
# it supports on Node >= 24.9 with the VM modules API on (scripts/jest.sh, the mutation runs).
JEST_NODE_OPTIONS="--experimental-vm-modules --disable-warning=ExperimentalWarning"
