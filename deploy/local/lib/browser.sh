# shellcheck shell=bash
# The browser tests' tools: Debian's Chromium (driven by Playwright for Python from the uv
# workspace, never a browser build downloaded by Playwright) and axe-core from the npm
# registry, pinned by tests/browser/package-lock.json. Sourced by infra.sh after common.sh.
# Idempotent: installs only what is missing, `npm ci` only when the lock changed.

CHROMIUM_BIN=/usr/bin/chromium
BROWSER_NPM_DIR="$REPO_ROOT/tests/browser"

browser_apt_install() {
	[[ $(id -u) -eq 0 ]] || die "$* not installed; run as root or: sudo apt-get install $*"
	log "browser: installing Debian package(s) $* (apt-get update + install)"
	local rc=0
	{ apt-get update -q -o DPkg::Lock::Timeout=600 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 --no-install-recommends "$@"; } >&2 || rc=$?
	((rc == 0)) || die "apt-get install $* failed (exit $rc)"
}

browser_up() {
	local started
	started=$(now_ms)
	local missing=()
	[[ -x $CHROMIUM_BIN ]] || missing+=(chromium)
	command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
	((${#missing[@]} == 0)) || browser_apt_install "${missing[@]}"
	# `npm ci` again only when package-lock.json differs from the one installed last time.
	local stamp="$BROWSER_NPM_DIR/node_modules/.portal-lock"
	if [[ ! -f $stamp ]] || ! cmp -s "$stamp" "$BROWSER_NPM_DIR/package-lock.json"; then
		log "browser: npm ci in tests/browser (axe-core)"
		(cd "$BROWSER_NPM_DIR" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) >&2 ||
			die "npm ci in tests/browser failed"
		cp "$BROWSER_NPM_DIR/package-lock.json" "$stamp"
	fi
	log "browser: chromium $("$CHROMIUM_BIN" --version 2>/dev/null | awk '{print $2}') and axe-core ready in $(elapsed_since "$started")"
}

browser_status() {
	if [[ -x $CHROMIUM_BIN ]]; then
		log "browser: $("$CHROMIUM_BIN" --version 2>/dev/null)"
	else
		log "browser: chromium not installed"
	fi
}
