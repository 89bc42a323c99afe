# shellcheck shell=bash
# Shared helpers for deploy/local/infra.sh: logging, timing, pid files, port checks.
# Sourced, never executed; expects REPO_ROOT to be set by the caller.

LOCAL_DIR="${PORTAL_LOCAL_DIR:-$REPO_ROOT/.local}"
PID_DIR="$LOCAL_DIR/pids"
LOOPBACK=127.0.0.1

# Logs go to stderr so that `infra.sh env` keeps a clean stdout for eval.
log() { printf '[%s] infra: %s\n' "$(date '+%H:%M:%S')" "$*" >&2; }
die() {
	log "ERROR: $*"
	exit 1
}

now_ms() { date '+%s%3N'; }
# Seconds since a now_ms timestamp, one decimal.
elapsed_since() {
	local started=$1 ms
	ms=$(($(now_ms) - started))
	printf '%d.%ds' $((ms / 1000)) $((ms % 1000 / 100))
}

# True when something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
	timeout 2 bash -c "exec 3<>/dev/tcp/$LOOPBACK/$1" 2>/dev/null
}

# Status line of an HTTP GET on loopback, without needing curl on a fresh machine.
http_status() {
	local port=$1 path=$2
	timeout 3 bash -c "exec 3<>/dev/tcp/$LOOPBACK/$port
		printf 'GET %s HTTP/1.0\r\nHost: $LOOPBACK:%s\r\n\r\n' '$path' '$port' >&3
		head -n1 <&3" 2>/dev/null | tr -d '\r'
}

# wait_until DESCRIPTION DEADLINE_SECONDS COMMAND...: polls COMMAND until it succeeds.
wait_until() {
	local what=$1 deadline=$2
	shift 2
	local stop_at=$((SECONDS + deadline))
	until "$@" >/dev/null 2>&1; do
		if ((SECONDS >= stop_at)); then
			log "gave up waiting for $what after ${deadline}s"
			return 1
		fi
		sleep 0.5
	done
}

pid_file() { printf '%s/%s.pid' "$PID_DIR" "$1"; }

# Prints the pid recorded for NAME if that process is alive and its command line
# contains EXPECTED (guards against a recycled pid after a reboot or crash).
live_pid() {
	local name=$1 expected=$2 file pid
	file=$(pid_file "$name")
	[[ -s $file ]] || return 1
	pid=$(<"$file")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$expected" || return 1
	printf '%s\n' "$pid"
}

# stop_pid NAME EXPECTED [GRACE_SECONDS]: SIGTERM, wait, then SIGKILL; removes the pid file.
stop_pid() {
	local name=$1 expected=$2 grace=${3:-20} pid
	if ! pid=$(live_pid "$name" "$expected"); then
		rm -f "$(pid_file "$name")"
		return 0
	fi
	log "stopping $name (pid $pid)"
	kill -TERM "$pid" 2>/dev/null || true
	local stop_at=$((SECONDS + grace))
	while kill -0 "$pid" 2>/dev/null && ((SECONDS < stop_at)); do sleep 0.3; done
	if kill -0 "$pid" 2>/dev/null; then
		log "$name (pid $pid) ignored SIGTERM for ${grace}s, sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$(pid_file "$name")"
}

# Refuses to start when another program already holds the port, naming the override.
ensure_port_free() {
	local port=$1 what=$2 override=$3
	if port_open "$port"; then
		local holder
		holder=$(ss -ltnpH "sport = :$port" 2>/dev/null | sed -n 's/.*users:((\("[^"]*"\).*/\1/p' | head -n1)
		die "port $port (for $what) is already taken by ${holder:-another process}; set $override to another port"
	fi
}

# start_detached NAME LOGFILE COMMAND...: runs COMMAND in its own session, detached from
# our stdio and from the lock fd 9, and records its pid.
start_detached() {
	local name=$1 logfile=$2
	shift 2
	mkdir -p "$PID_DIR" "$(dirname "$logfile")"
	printf '\n==== %s start %s ====\n' "$name" "$(date -Is)" >>"$logfile"
	setsid "$@" </dev/null >>"$logfile" 2>&1 9>&- &
	printf '%s\n' "$!" >"$(pid_file "$name")"
}

# Lists listeners of PID (and its children) that are not bound to loopback.
non_loopback_listeners() {
	local pids
	pids=$(printf '%s\n' "$@" | paste -sd'|')
	ss -ltnpH 2>/dev/null | grep -E "pid=($pids)," | awk '{print $4}' |
		grep -vE '^(127\.[0-9.]+|\[::1\]|\[::ffff:127\.[0-9.]+\]):[0-9]+$' || true
}

# Reports listeners of the given pids and fails loudly if any is on a public interface.
assert_loopback_only() {
	local what=$1
	shift
	local bad
	bad=$(non_loopback_listeners "$@")
	if [[ -n $bad ]]; then
		die "$what listens on a non-loopback address: $(echo "$bad" | paste -sd' ')"
	fi
	log "$what listeners: $(ss -ltnpH 2>/dev/null | grep -E "pid=($(printf '%s\n' "$@" | paste -sd'|'))," |
		awk '{print $4}' | sort -u | paste -sd' ')"
}

# Finds a Go toolchain (the polyglot machine keeps it in /usr/local/go) and GOBIN.
require_go() {
	if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
		PATH="/usr/local/go/bin:$PATH"
	fi
	command -v go >/dev/null 2>&1 || die "Go is needed to build FerretDB and mailpit; install Go >= 1.24"
}

go_bin_dir() {
	local gobin
	gobin=$(go env GOBIN)
	[[ -n $gobin ]] || gobin="$(go env GOPATH)/bin"
	printf '%s\n' "$gobin"
}
