#!/usr/bin/env bash
# Local infrastructure for development and CI, all bound to 127.0.0.1:
#   RabbitMQ (Debian package), FerretDB v1 on PostgreSQL (Debian package; MongoDB wire protocol),
#   mailpit (SMTP sink).
#
# Usage: deploy/local/infra.sh up|down|status|env|tools|bus-users
#   up      install what is missing (the first run builds FerretDB and mailpit with Go and
#           takes minutes; the browser tests' Chromium and axe-core come from Debian and npm)
#           and start what is not running; Debian's prometheus/promtool are only installed,
#           for the monitoring tests; idempotent.
#   down    stop what `up` started (by pid file).
#   status  what runs where.
#   env     print `export AMQP_URL=... MONGODB_URL=... SMTP_URL=... MAILPIT_API_URL=...`.
#   bus-users  create (idempotently) one broker user per service and a read-only subscriber
#           user on the local broker's management API (deploy/local/bus_users.py).
#   tools   install what the test suite drives besides the servers, if missing: a kustomize
#           renderer (kustomize, or kubectl with kustomize v4+), Debian's nginx and the
#           official AsyncAPI parser (npm ci in tools/asyncapi).
#
# A set AMQP_URL / MONGODB_URL / SMTP_URL points at a real server: that part is not started.
# Ports: PORTAL_AMQP_PORT, PORTAL_RABBITMQ_DIST_PORT, PORTAL_RABBITMQ_MGMT_PORT,
# PORTAL_RABBITMQ_PROMETHEUS_PORT, PORTAL_EPMD_PORT, PORTAL_MONGODB_PORT,
# PORTAL_FERRETDB_DEBUG_PORT, PORTAL_POSTGRES_PORT, PORTAL_SMTP_PORT, PORTAL_MAILPIT_HTTP_PORT, PORTAL_MAILPIT_POP3_PORT.
# State, logs and pid files live in the git-ignored .local/ (PORTAL_LOCAL_DIR overrides).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LIB_DIR="$REPO_ROOT/deploy/local/lib"
# shellcheck source=deploy/local/lib/common.sh
. "$LIB_DIR/common.sh"
# shellcheck source=deploy/local/lib/rabbitmq.sh
. "$LIB_DIR/rabbitmq.sh"
# shellcheck source=deploy/local/lib/postgres.sh
. "$LIB_DIR/postgres.sh"
# shellcheck source=deploy/local/lib/ferretdb.sh
. "$LIB_DIR/ferretdb.sh"
# shellcheck source=deploy/local/lib/mailpit.sh
. "$LIB_DIR/mailpit.sh"
# shellcheck source=deploy/local/lib/cluster.sh
. "$LIB_DIR/cluster.sh"
# shellcheck source=deploy/local/lib/tools.sh
. "$LIB_DIR/tools.sh"
# shellcheck source=deploy/local/lib/browser.sh
. "$LIB_DIR/browser.sh"
# shellcheck source=deploy/local/lib/prometheus.sh
. "$LIB_DIR/prometheus.sh"

# Serialises concurrent `up`/`down` calls (several sessions may share one checkout);
# children get fd 9 closed by start_detached so they never hold the lock.
take_lock() {
	mkdir -p "$LOCAL_DIR"
	exec 9>"$LOCAL_DIR/infra.lock"
	if ! flock -w 900 9; then
		die "another infra.sh holds $LOCAL_DIR/infra.lock for 15 minutes; giving up"
	fi
}

cmd_up() {
	take_lock
	local started
	started=$(now_ms)
	log "up: RabbitMQ, FerretDB and mailpit on $LOOPBACK (first run builds FerretDB and mailpit and takes minutes)"
	rabbitmq_up
	[[ -n ${AMQP_URL:-} ]] || bus_users_up
	ferretdb_up
	mailpit_up
	# The chaos tests start their own three-node cluster behind HAProxy (deploy/local/cluster.sh);
	# only the package is installed here, nothing is started.
	haproxy_install
	browser_up
	prometheus_install
	log "up: all ready in $(elapsed_since "$started")"
	cmd_status
}

cmd_down() {
	take_lock
	mailpit_down
	ferretdb_down
	rabbitmq_down
	log "down: done"
}

cmd_status() {
	rabbitmq_status
	ferretdb_status
	mailpit_status
	browser_status
	prometheus_status
}

cmd_env() {
	printf 'export AMQP_URL=%q\n' "${AMQP_URL:-$(rabbitmq_default_url)}"
	printf 'export MONGODB_URL=%q\n' "${MONGODB_URL:-$(ferretdb_default_url)}"
	printf 'export SMTP_URL=%q\n' "${SMTP_URL:-$(mailpit_default_smtp_url)}"
	if [[ -n ${MAILPIT_API_URL:-} || -z ${SMTP_URL:-} ]]; then
		printf 'export MAILPIT_API_URL=%q\n' "${MAILPIT_API_URL:-$(mailpit_default_api_url)}"
	else
		echo '# MAILPIT_API_URL not set: SMTP_URL points at a real SMTP server'
	fi
}

main() {
	case "${1:-}" in
	up) cmd_up ;;
	down) cmd_down ;;
	status) cmd_status ;;
	env) cmd_env ;;
	tools)
		take_lock
		tools_up
		;;
	bus-users) bus_users_up ;;
	*)
		echo "usage: $0 up|down|status|env|tools|bus-users" >&2
		exit 2
		;;
	esac
}

main "$@"
