# Sourced by demo.sh and test.sh: one line per install step, package managers' output in a log file
# whose path and last lines are shown when a step fails.
MASTOWIZARD_SETUP_LOG="${MASTOWIZARD_SETUP_LOG:-${TMPDIR:-/tmp}/mastowizard-setup.log}"
: >"$MASTOWIZARD_SETUP_LOG"

step() {
  local what=$1 start=$SECONDS
  shift
  printf '%s ... ' "$what"
  if "$@" >>"$MASTOWIZARD_SETUP_LOG" 2>&1; then
    echo "done ($((SECONDS - start))s)"
  else
    echo "failed"
    echo "the whole log is $MASTOWIZARD_SETUP_LOG; its last lines:"
    tail -n 15 "$MASTOWIZARD_SETUP_LOG" | sed 's/^/    /'
    exit 1
  fi
}

need_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "$1 needs root (the lab installs Debian packages and creates two local users): run it with sudo"
    exit 2
  fi
}
