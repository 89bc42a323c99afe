# shellcheck shell=bash
# Tools the test suite drives as the outside world would (not servers): a kustomize renderer
# for the offline manifest tests, Debian's nginx for the secure-link download test, and the
# official AsyncAPI parser (npm, pinned by tools/asyncapi/package-lock.json) that validates
# docs/asyncapi.yaml.
# Sourced by infra.sh after common.sh; installs what is missing, idempotently.

KUSTOMIZE_VERSION=v5.4.3

# A kustomize renderer: a kustomize binary, else kubectl when its built-in kustomize is v4 or
# later (Debian bookworm's kubectl 1.20 embeds kustomize v2, which cannot read `components`).
kustomize_renderer_ok() {
	[[ -n ${KUSTOMIZE:-} && -x ${KUSTOMIZE:-} ]] && return 0
	command -v kustomize >/dev/null 2>&1 && return 0
	if command -v go >/dev/null 2>&1 && [[ -x "$(go_bin_dir)/kustomize" ]]; then
		return 0
	fi
	command -v kubectl >/dev/null 2>&1 &&
		kubectl version --client 2>/dev/null | grep -qE '^Kustomize Version: v([4-9]|[1-9][0-9])\.'
}

kustomize_install() {
	if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
		PATH="/usr/local/go/bin:$PATH"
	fi
	kustomize_renderer_ok && return 0
	require_go
	local started
	started=$(now_ms)
	log "tools: building kustomize $KUSTOMIZE_VERSION with go install (for the manifest tests)"
	GOBIN=$(go_bin_dir) go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION" >&2 ||
		die "tools: go install kustomize failed"
	log "tools: built $(go_bin_dir)/kustomize in $(elapsed_since "$started")"
}

apt_install() {
	local sudo=()
	[[ $(id -u) -eq 0 ]] || sudo=(sudo)
	log "tools: installing Debian packages: $*"
	"${sudo[@]}" apt-get update -q >&2 || true
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "$@" >&2 ||
		die "tools: apt-get install $* failed"
}

# Debian's nginx binary only: the test runs its own instance on loopback with its own prefix.
# The package's own service would listen on every address on port 80, so it is kept from
# starting (policy-rc.d) while the package is installed.
nginx_install() {
	[[ -x /usr/sbin/nginx ]] && return 0
	local policy=/usr/sbin/policy-rc.d added=0
	if [[ $(id -u) -eq 0 && ! -e $policy ]]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && added=1
	fi
	apt_install nginx
	[[ $added -eq 1 ]] && rm -f "$policy"
	[[ -x /usr/sbin/nginx ]] || die "tools: /usr/sbin/nginx missing after installing nginx"
}

ASYNCAPI_NPM_DIR="$REPO_ROOT/tools/asyncapi"

# @asyncapi/parser under tools/asyncapi/node_modules; `npm ci` (no install scripts, so nothing
# phones home) again only when package-lock.json differs from the one installed last time.
asyncapi_parser_install() {
	command -v npm >/dev/null 2>&1 || apt_install nodejs npm
	local stamp="$ASYNCAPI_NPM_DIR/node_modules/.portal-lock"
	if [[ ! -f $stamp ]] || ! cmp -s "$stamp" "$ASYNCAPI_NPM_DIR/package-lock.json"; then
		log "tools: npm ci in tools/asyncapi (@asyncapi/parser, validates docs/asyncapi.yaml)"
		(cd "$ASYNCAPI_NPM_DIR" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) >&2 ||
			die "tools: npm ci in tools/asyncapi failed"
		cp "$ASYNCAPI_NPM_DIR/package-lock.json" "$stamp"
	fi
}

tools_up() {
	kustomize_install
	nginx_install
	asyncapi_parser_install
}
