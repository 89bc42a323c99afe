#!/usr/bin/env bash
# The four services on this machine, each as one process running every role (api, consumer,
# relay), on 127.0.0.1, with development keys kept in .local/data. Used by `make run`.
#
# Usage: deploy/local/platform.sh up|down|status
#        deploy/local/platform.sh exec <service> <args...>   a service command with the same
#        settings, e.g. `exec identity create-editor --email ed@example.org --password-file -`
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOCAL_DIR="${PORTAL_LOCAL_DIR:-$REPO_ROOT/.local}"
PIDS="$LOCAL_DIR/pids"
LOGS="$LOCAL_DIR/logs"
BIN="$REPO_ROOT/.venv/bin"
SERVICES=(identity notifier catalog transcript)
declare -A PORT=([identity]=8001 [notifier]=8002 [catalog]=8003 [transcript]=8004)

say() { printf '[platform %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }

infra_env() {
	# shellcheck disable=SC2046
	eval "$("$REPO_ROOT/deploy/local/infra.sh" env)"
	export PORTAL_ENV=development PORTAL_DATA_DIR="$LOCAL_DIR/data" HTTP_HOST=127.0.0.1
	# Each side's development key is made (once, under PORTAL_DATA_DIR) by its own command; the
	# other side is told the public half: identity seals for the notifier's key, and the
	# notifier opens only parts sealed with identity's key.
	export IDENTITY_NOTIFIER_PUBLIC_KEY NOTIFIER_IDENTITY_PUBLIC_KEYS
	IDENTITY_NOTIFIER_PUBLIC_KEY="$("$BIN/notifier" public-key)"
	NOTIFIER_IDENTITY_PUBLIC_KEYS="$("$BIN/identity" sealing-public-key)"
	export CATALOG_JWKS_URL="http://127.0.0.1:${PORT[identity]}/.well-known/jwks.json"
	export TRANSCRIPT_JWKS_URL="$CATALOG_JWKS_URL"
	export CATALOG_PUBLIC_BASE_URL="http://127.0.0.1:${PORT[catalog]}"
	export ACCOUNT_PAGES_URL="http://127.0.0.1:${PORT[identity]}" VIDEO_PAGES_URL="http://127.0.0.1:${PORT[catalog]}"
}

# Each service on the bus as its own least-privilege user: infra.sh up creates them on the
# local broker (bus_users.py); a broker given by AMQP_URL has none of ours, so AMQP_URL is used.
GIVEN_AMQP_URL="${AMQP_URL:-}"
service_amqp_url() {
	local file="$LOCAL_DIR/rabbitmq-users/$1.url"
	if [[ -z $GIVEN_AMQP_URL && -r $file ]]; then cat "$file"; else printf '%s' "$AMQP_URL"; fi
}

running() { [[ -f "$PIDS/$1.pid" ]] && kill -0 "$(cat "$PIDS/$1.pid")" 2>/dev/null; }

wait_ready() {
	local name=$1 url="http://127.0.0.1:${PORT[$1]}/readyz" deadline=$((SECONDS + 90))
	until curl -fsS "$url" >/dev/null 2>&1; do
		if ! running "$name"; then
			say "$name exited; last log lines:"; tail -n 20 "$LOGS/$name.log"; return 1
		fi
		((SECONDS < deadline)) || { say "$name not ready after 90s (see $LOGS/$name.log)"; return 1; }
		sleep 0.5
	done
	say "$name ready: $url"
}

cmd_up() {
	mkdir -p "$PIDS" "$LOGS" "$LOCAL_DIR/data"
	infra_env
	for name in "${SERVICES[@]}"; do
		if running "$name"; then say "$name already running (pid $(cat "$PIDS/$name.pid"))"; continue; fi
		say "starting $name on 127.0.0.1:${PORT[$name]} (logs: $LOGS/$name.log)"
		AMQP_URL="$(service_amqp_url "$name")" HTTP_PORT=${PORT[$name]} \
			setsid "$BIN/$name" all --port "${PORT[$name]}" \
			>>"$LOGS/$name.log" 2>&1 </dev/null &
		echo $! >"$PIDS/$name.pid"
	done
	for name in "${SERVICES[@]}"; do wait_ready "$name"; done
	say "loading the demo data (catalogue videos and the seed transcript)"
	"$BIN/catalog" load-demo
	"$BIN/transcript" load-demo --file "$REPO_ROOT/tests/data/seed_panel_transcript.txt"
	cmd_status
	cat <<MSG

  The platform is up. API docs:
    identity    http://127.0.0.1:${PORT[identity]}/docs
    notifier    http://127.0.0.1:${PORT[notifier]}/docs
    catalog     http://127.0.0.1:${PORT[catalog]}/docs
    transcript  http://127.0.0.1:${PORT[transcript]}/docs
  Video pages: http://127.0.0.1:${PORT[catalog]}/videos   Account pages: http://127.0.0.1:${PORT[identity]}/account
  Mail UI (every email the platform sends): ${MAILPIT_API_URL:-http://127.0.0.1:8025}
  RabbitMQ management: http://127.0.0.1:15672 (guest/guest)
  Stop everything: make stop
MSG
}

cmd_down() {
	for name in "${SERVICES[@]}"; do
		if running "$name"; then
			local pid; pid=$(cat "$PIDS/$name.pid")
			say "stopping $name (pid $pid, SIGTERM: drains in-flight work)"
			kill -TERM "$pid" 2>/dev/null || true
			for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
			kill -0 "$pid" 2>/dev/null && { say "$name still running: SIGKILL"; kill -KILL "$pid"; }
		fi
		rm -f "$PIDS/$name.pid"
	done
}

cmd_status() {
	for name in "${SERVICES[@]}"; do
		if running "$name"; then
			local ready=not-ready
			curl -fsS "http://127.0.0.1:${PORT[$name]}/readyz" >/dev/null 2>&1 && ready=ready
			say "$name: pid $(cat "$PIDS/$name.pid"), http://127.0.0.1:${PORT[$name]} ($ready)"
		else
			say "$name: not running"
		fi
	done
}

cmd_exec() {
	local service="${1:-}"
	if [[ ! " ${SERVICES[*]} " == *" $service "* ]]; then
		echo "usage: $0 exec identity|notifier|catalog|transcript <args...>" >&2
		exit 2
	fi
	shift
	infra_env
	exec "$BIN/$service" "$@"
}

case "${1:-}" in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
exec) shift; cmd_exec "$@" ;;
*) echo "usage: $0 up|down|status|exec <service> <args...>" >&2; exit 2 ;;
esac
