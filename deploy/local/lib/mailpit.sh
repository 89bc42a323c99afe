# shellcheck shell=bash
# mailpit as the local SMTP sink with an HTTP API to read what was sent.
# Sourced by infra.sh after common.sh.

MAILPIT_VERSION=v1.33.1
SMTP_PORT="${PORTAL_SMTP_PORT:-1025}"
MAILPIT_HTTP_PORT="${PORTAL_MAILPIT_HTTP_PORT:-8025}"
MAILPIT_POP3_PORT="${PORTAL_MAILPIT_POP3_PORT:-1110}"
MAILPIT_DIR="$LOCAL_DIR/mailpit"
MAILPIT_START_DEADLINE="${PORTAL_MAILPIT_START_DEADLINE:-30}"

mailpit_default_smtp_url() { printf 'smtp://%s:%s' "$LOOPBACK" "$SMTP_PORT"; }
mailpit_default_api_url() { printf 'http://%s:%s' "$LOOPBACK" "$MAILPIT_HTTP_PORT"; }

mailpit_binary() { printf '%s/mailpit\n' "$(go_bin_dir)"; }

# `mailpit version` phones home, so read the module version Go embedded in the binary.
mailpit_binary_ok() {
	local bin=$1 out
	# read whole before grep (see ferretdb_binary_ok: `| grep -q` under pipefail)
	[[ -x $bin ]] && out=$(go version -m "$bin" 2>/dev/null) &&
		grep -qE "^[[:space:]]+mod[[:space:]]+github.com/axllent/mailpit[[:space:]]+${MAILPIT_VERSION}[[:space:]]" <<<"$out"
}

mailpit_install() {
	require_go
	local bin started
	bin=$(mailpit_binary)
	mailpit_binary_ok "$bin" && return 0
	started=$(now_ms)
	log "mailpit: building mailpit $MAILPIT_VERSION with go install (first run takes a few minutes)"
	GOBIN=$(dirname "$bin") go install "github.com/axllent/mailpit@$MAILPIT_VERSION" >&2 ||
		die "mailpit: go install failed"
	mailpit_binary_ok "$bin" || die "mailpit: $bin does not report $MAILPIT_VERSION"
	log "mailpit: built $bin in $(elapsed_since "$started")"
}

mailpit_api_ready() { [[ $(http_status "$MAILPIT_HTTP_PORT" /api/v1/info) == *" 200"* ]]; }

mailpit_up() {
	if [[ -n ${SMTP_URL:-} ]]; then
		log "mailpit: SMTP_URL is set, using that SMTP server and not starting mailpit"
		return 0
	fi
	local pid
	if pid=$(live_pid mailpit mailpit) && port_open "$SMTP_PORT"; then
		log "mailpit: already running (pid $pid) on $LOOPBACK:$SMTP_PORT"
		return 0
	fi
	mailpit_install
	ensure_port_free "$SMTP_PORT" "mailpit SMTP" PORTAL_SMTP_PORT
	ensure_port_free "$MAILPIT_HTTP_PORT" "mailpit HTTP" PORTAL_MAILPIT_HTTP_PORT
	local started
	started=$(now_ms)
	log "mailpit: starting SMTP on $LOOPBACK:$SMTP_PORT, API on $LOOPBACK:$MAILPIT_HTTP_PORT"
	mkdir -p "$MAILPIT_DIR"
	# POP3 stays off (it needs --pop3-auth-file); its address is pinned to loopback anyway in
	# case an MP_POP3_AUTH_FILE variable turns it on. Any SMTP credentials are accepted so
	# that clients configured with a user and password work unchanged.
	start_detached mailpit "$LOCAL_DIR/mailpit.log" "$(mailpit_binary)" \
		--database "$MAILPIT_DIR/mailpit.db" \
		--smtp "$LOOPBACK:$SMTP_PORT" \
		--listen "$LOOPBACK:$MAILPIT_HTTP_PORT" \
		--pop3 "$LOOPBACK:$MAILPIT_POP3_PORT" \
		--smtp-disable-rdns \
		--smtp-auth-accept-any \
		--smtp-auth-allow-insecure \
		--disable-version-check \
		--max 5000
	if ! wait_until "mailpit API" "$MAILPIT_START_DEADLINE" mailpit_api_ready; then
		tail -n 30 "$LOCAL_DIR/mailpit.log" >&2 || true
		mailpit_down
		die "mailpit did not answer within ${MAILPIT_START_DEADLINE}s; see $LOCAL_DIR/mailpit.log"
	fi
	pid=$(live_pid mailpit mailpit) || die "mailpit exited; see $LOCAL_DIR/mailpit.log"
	log "mailpit: ready in $(elapsed_since "$started") (pid $pid)"
	assert_loopback_only mailpit "$pid"
}

mailpit_down() { stop_pid mailpit mailpit 10; }

mailpit_status() {
	local pid
	if [[ -n ${SMTP_URL:-} ]]; then
		echo "mailpit   external  SMTP_URL is set (not managed here)"
	elif pid=$(live_pid mailpit mailpit); then
		echo "mailpit   running   pid $pid  smtp://$LOOPBACK:$SMTP_PORT  api $(mailpit_default_api_url)"
	else
		echo "mailpit   stopped"
	fi
}
