# shellcheck shell=bash
# FerretDB v1 with the PostgreSQL backend (postgres.sh) as the local MongoDB wire-protocol
# server. Sourced by infra.sh after common.sh and postgres.sh.

FERRETDB_VERSION=v1.24.2
MONGODB_PORT="${PORTAL_MONGODB_PORT:-27017}"
FERRETDB_DEBUG_PORT="${PORTAL_FERRETDB_DEBUG_PORT:-8088}"
FERRETDB_DIR="$LOCAL_DIR/ferretdb"
FERRETDB_START_DEADLINE="${PORTAL_FERRETDB_START_DEADLINE:-60}"
# FerretDB v1 deadlocks when its PostgreSQL pool (50 by default) runs dry while a collection is
# being created: the creator holds the metadata registry's write lock and waits for a
# connection, every other request waits for the lock (seen on the shared dev server under 8
# parallel test runs: ping hung for good). A pool larger than the clients' concurrency keeps
# the pool from running dry; postgres.sh allows 300 server connections.
FERRETDB_POOL_MAX_CONNS="${PORTAL_FERRETDB_POOL_MAX_CONNS:-250}"
# CPU per command (deploy/local/README.md, "Its CPU"): FerretDB allocates a lot per command
# (BSON to its JSON and back), so Go's collector runs when the heap is 5x the live set, not 2x
# (GOGC=400; the live set is a few MiB); and on a machine of 1-2 cores one P (GOMAXPROCS=1)
# spares the scheduler's spinning and wake-ups between short commands (Go's default, one P
# per core, elsewhere).
FERRETDB_GOGC="${PORTAL_FERRETDB_GOGC:-400}"
ferretdb_default_procs() { local n; n=$(nproc); if ((n <= 2)); then echo 1; else echo "$n"; fi; }
FERRETDB_GOMAXPROCS="${PORTAL_FERRETDB_GOMAXPROCS:-$(ferretdb_default_procs)}"

ferretdb_default_url() { printf 'mongodb://%s:%s/' "$LOOPBACK" "$MONGODB_PORT"; }

ferretdb_binary() { printf '%s/ferretdb\n' "$(go_bin_dir)"; }

# The output is read whole before grep looks at it: `cmd | grep -q` under pipefail fails when
# grep exits at its match while cmd still writes (SIGPIPE, status 141), which on a loaded
# machine made a working binary look broken and `infra.sh up` rebuild it and then die.
ferretdb_binary_ok() {
	local bin=$1 out
	[[ -x $bin ]] && out=$("$bin" --version 2>/dev/null) &&
		grep -qx "version: $FERRETDB_VERSION" <<<"$out"
}

# A plain `go install .../cmd/ferretdb@v1.24.2` builds a binary that panics at start
# ("Invalid build/version/version.txt"): the module zip lacks the generated version.txt.
# So we build from a writable copy of the module with that file written in.
ferretdb_build() {
	local bin=$1 started src module_dir
	started=$(now_ms)
	log "ferretdb: building FerretDB $FERRETDB_VERSION (first run takes a few minutes)"
	module_dir=$(go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
	[[ -d $module_dir ]] || die "ferretdb: go mod download did not give a module directory"
	src=$(mktemp -d "${TMPDIR:-/tmp}/ferretdb-src.XXXXXX")
	cp -R "$module_dir/." "$src/"
	chmod -R u+w "$src"
	printf '%s\n' "$FERRETDB_VERSION" >"$src/build/version/version.txt"
	mkdir -p "$(dirname "$bin")"
	if ! (cd "$src" && GOFLAGS=-buildvcs=false go build -trimpath -o "$bin.tmp.$$" ./cmd/ferretdb) >&2; then
		rm -rf "$src" "$bin.tmp.$$"
		die "ferretdb: go build failed"
	fi
	rm -rf "$src"
	mv -f "$bin.tmp.$$" "$bin"
	log "ferretdb: built $bin in $(elapsed_since "$started")"
}

ferretdb_install() {
	require_go
	local bin
	bin=$(ferretdb_binary)
	if ferretdb_binary_ok "$bin"; then
		return 0
	fi
	[[ -e $bin ]] && log "ferretdb: $bin is not a working $FERRETDB_VERSION build, rebuilding"
	ferretdb_build "$bin"
	ferretdb_binary_ok "$bin" || die "ferretdb: $bin does not report $FERRETDB_VERSION"
}

# Prefer a real MongoDB ping through pymongo; fall back to a TCP check.
ferretdb_ping() {
	local python
	for python in "$REPO_ROOT/.venv/bin/python" python3; do
		if "$python" -c 'import pymongo' >/dev/null 2>&1; then
			"$python" - "$(ferretdb_default_url)" <<-'EOF'
				import sys
				import pymongo
				client = pymongo.MongoClient(sys.argv[1], serverSelectionTimeoutMS=2000)
				client.admin.command("ping")
			EOF
			return
		fi
	done
	port_open "$MONGODB_PORT"
}

ferretdb_up() {
	if [[ -n ${MONGODB_URL:-} ]]; then
		log "ferretdb: MONGODB_URL is set, using that server and not starting FerretDB"
		return 0
	fi
	local pid
	if pid=$(live_pid ferretdb ferretdb) && port_open "$MONGODB_PORT"; then
		log "ferretdb: already running (pid $pid) on $LOOPBACK:$MONGODB_PORT"
		if live_pid postgres postgres >/dev/null; then
			postgres_settings
			postgres_gin_companions
		fi
		return 0
	fi
	ferretdb_install
	ensure_port_free "$MONGODB_PORT" "FerretDB" PORTAL_MONGODB_PORT
	ensure_port_free "$FERRETDB_DEBUG_PORT" "FerretDB debug/metrics" PORTAL_FERRETDB_DEBUG_PORT
	postgres_up
	mkdir -p "$FERRETDB_DIR/state"
	local started
	started=$(now_ms)
	log "ferretdb: starting on $LOOPBACK:$MONGODB_PORT (PostgreSQL on $LOOPBACK:$POSTGRES_PORT)"
	# The PostgreSQL URL holds a password: it goes in through the environment, not argv.
	start_detached ferretdb "$LOCAL_DIR/ferretdb.log" env DO_NOT_TRACK=1 GOGC="$FERRETDB_GOGC" GOMAXPROCS="$FERRETDB_GOMAXPROCS" \
		FERRETDB_POSTGRESQL_URL="$(postgres_default_url)?pool_max_conns=$FERRETDB_POOL_MAX_CONNS" "$(ferretdb_binary)" \
		--handler=postgresql \
		--state-dir="$FERRETDB_DIR/state" \
		--listen-addr="$LOOPBACK:$MONGODB_PORT" \
		--debug-addr="$LOOPBACK:$FERRETDB_DEBUG_PORT" \
		--telemetry=disable \
		--log-level=WARN
	if ! wait_until "FerretDB ping" "$FERRETDB_START_DEADLINE" ferretdb_ping; then
		tail -n 30 "$LOCAL_DIR/ferretdb.log" >&2 || true
		ferretdb_down
		die "ferretdb did not answer within ${FERRETDB_START_DEADLINE}s; see $LOCAL_DIR/ferretdb.log"
	fi
	pid=$(live_pid ferretdb ferretdb) || die "ferretdb exited; see $LOCAL_DIR/ferretdb.log"
	log "ferretdb: ready in $(elapsed_since "$started") (pid $pid)"
	assert_loopback_only ferretdb "$pid"
}

ferretdb_down() {
	stop_pid ferretdb ferretdb 20
	postgres_down
}

ferretdb_status() {
	local pid
	if [[ -n ${MONGODB_URL:-} ]]; then
		echo "ferretdb  external  MONGODB_URL is set (not managed here)"
	elif pid=$(live_pid ferretdb ferretdb); then
		echo "ferretdb  running   pid $pid  mongodb://$LOOPBACK:$MONGODB_PORT/  metrics http://$LOOPBACK:$FERRETDB_DEBUG_PORT/debug/metrics"
		postgres_status
	else
		echo "ferretdb  stopped"
	fi
}
