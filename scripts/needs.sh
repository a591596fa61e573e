# Sourced by start.sh and test.sh: runs the setup parts a command needs, nothing more.
# With MONGODB_URI / REDIS_URL set, no local server is installed or built.
source "$(dirname "${BASH_SOURCE[0]}")/node-env.sh"

ensure_setup() {
  local parts=(--npm "$@")
  [ -n "${REDIS_URL:-}" ] || parts+=(--redis)
  [ -n "${MONGODB_URI:-}" ] || parts+=(--ferretdb)
  bash "$(dirname "${BASH_SOURCE[0]}")/setup.sh" "${parts[@]}"
}
