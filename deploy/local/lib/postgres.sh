# shellcheck shell=bash
# PostgreSQL (Debian's postgresql package) as FerretDB's storage backend: a private cluster
# that runs as the `postgres` user, listens on 127.0.0.1 only and keeps its data in .local/.
# Sourced by infra.sh after common.sh.
#
# Why PostgreSQL and not SQLite: FerretDB v1 on SQLite plans a full table scan for an equality
# on an indexed field (a lookup by email took 24 ms at 500 accounts and 191 ms at 5,000); on
# PostgreSQL the same lookups use the index and stay flat (see deploy/local/README.md).

POSTGRES_PORT="${PORTAL_POSTGRES_PORT:-5433}"
POSTGRES_DIR="$LOCAL_DIR/postgres"
POSTGRES_START_DEADLINE="${PORTAL_POSTGRES_START_DEADLINE:-60}"
POSTGRES_DB=ferretdb
POSTGRES_ROLE=ferretdb

postgres_bin_dir() {
	local dir
	dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
	[[ -n $dir && -x $dir/postgres ]] || return 1
	printf '%s\n' "$dir"
}

postgres_install() {
	postgres_bin_dir >/dev/null && return 0
	[[ $(id -u) -eq 0 ]] || die "PostgreSQL is not installed; run as root or: sudo apt-get install postgresql"
	local started rc=0
	started=$(now_ms)
	log "postgres: installing Debian package postgresql (apt-get update + install)"
	# The package's postinst would start its own cluster on 5432; forbid that as for RabbitMQ.
	local policy=/usr/sbin/policy-rc.d placed_policy=
	if [[ ! -e $policy ]]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && placed_policy=1
	fi
	{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql; } >&2 || rc=$?
	[[ -n $placed_policy ]] && rm -f "$policy"
	((rc == 0)) || die "apt-get install postgresql failed (exit $rc)"
	postgres_bin_dir >/dev/null || die "postgres: no /usr/lib/postgresql/*/bin/postgres after install"
	log "postgres: package installed in $(elapsed_since "$started")"
}

# The server refuses to run as root, so it runs as the package's `postgres` user. That user
# must be able to reach the data directory; when a parent of .local/ is closed to it (a clone
# under /root), the data lives in /var/lib/postgresql/portal-<hash> and .local/postgres/data
# is a symlink to it.
postgres_as() {
	if [[ $(id -u) -eq 0 ]]; then
		# setpriv execs in place (no forked child as with runuser), so the pid file names
		# the server itself and signals reach it.
		setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"
	else
		"$@"
	fi
}

postgres_data_dir() { printf '%s/data\n' "$POSTGRES_DIR"; }

postgres_prepare_dir() {
	mkdir -p "$POSTGRES_DIR"
	local data
	data=$(postgres_data_dir)
	[[ -e $data ]] && return 0
	if [[ $(id -u) -ne 0 ]]; then
		mkdir -p "$data" && chmod 700 "$data"
		return 0
	fi
	if postgres_as test -x "$POSTGRES_DIR"; then
		mkdir -p "$data"
	else
		local hash elsewhere
		hash=$(printf '%s' "$POSTGRES_DIR" | sha256sum | cut -c1-12)
		elsewhere="/var/lib/postgresql/portal-$hash"
		log "postgres: $POSTGRES_DIR is not reachable by the postgres user; data in $elsewhere"
		mkdir -p "$elsewhere"
		ln -sfn "$elsewhere" "$data"
		data=$elsewhere
	fi
	chown postgres:postgres "$data"
	chmod 700 "$data"
}

postgres_password_file() { printf '%s/password\n' "$POSTGRES_DIR"; }

postgres_default_url() {
	local password
	password=$(<"$(postgres_password_file)")
	printf 'postgres://%s:%s@%s:%s/%s' "$POSTGRES_ROLE" "$password" "$LOOPBACK" "$POSTGRES_PORT" "$POSTGRES_DB"
}

postgres_init() {
	local bin data pwfile
	bin=$(postgres_bin_dir)
	data=$(postgres_data_dir)
	[[ -s $data/PG_VERSION ]] && return 0
	pwfile=$(postgres_password_file)
	[[ -s $pwfile ]] || (umask 077 && head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$pwfile")
	log "postgres: initialising a cluster in $data"
	local tmp_pw
	tmp_pw=$(mktemp "${TMPDIR:-/tmp}/portal-pg-pw.XXXXXX")
	cat "$pwfile" >"$tmp_pw"
	[[ $(id -u) -eq 0 ]] && chown postgres "$tmp_pw"
	# The superuser is the FerretDB role itself; password (SCRAM) on TCP, nothing on sockets
	# except to the server's own user.
	postgres_as "$bin/initdb" -D "$data" -U "$POSTGRES_ROLE" --pwfile="$tmp_pw" \
		--auth-host=scram-sha-256 --auth-local=peer -E UTF8 --locale=C.UTF-8 >&2 ||
		{
			rm -f "$tmp_pw"
			die "postgres: initdb failed"
		}
	rm -f "$tmp_pw"
	cat >>"$data/postgresql.conf" <<-EOF
		# portal local stand-in: loopback only, tuned for a disposable development database
		listen_addresses = '$LOOPBACK'
		unix_socket_directories = ''
		max_connections = 300
		shared_buffers = 256MB
		logging_collector = off
	EOF
}

postgres_ping() {
	local bin
	bin=$(postgres_bin_dir) || return 1
	"$bin/pg_isready" -q -h "$LOOPBACK" -p "$POSTGRES_PORT"
}

postgres_create_db() {
	local bin
	bin=$(postgres_bin_dir)
	if ! PGPASSWORD=$(<"$(postgres_password_file)") "$bin/psql" -h "$LOOPBACK" -p "$POSTGRES_PORT" \
		-U "$POSTGRES_ROLE" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$POSTGRES_DB'" | grep -q 1; then
		PGPASSWORD=$(<"$(postgres_password_file)") "$bin/createdb" -h "$LOOPBACK" -p "$POSTGRES_PORT" \
			-U "$POSTGRES_ROLE" "$POSTGRES_DB" || die "postgres: createdb $POSTGRES_DB failed"
	fi
}

# FerretDB v1's btree indexes cannot answer its own equality filters (see the SQL file):
# give each a GIN companion, now and for every index made later. Idempotent.
postgres_gin_companions() {
	local bin
	bin=$(postgres_bin_dir)
	PGPASSWORD=$(<"$(postgres_password_file)") "$bin/psql" -h "$LOOPBACK" -p "$POSTGRES_PORT" \
		-U "$POSTGRES_ROLE" -d "$POSTGRES_DB" -q -v ON_ERROR_STOP=1 \
		-f "$REPO_ROOT/deploy/local/sql/gin_companions.sql" >&2 ||
		die "postgres: installing the GIN companion indexes failed"
}

# FerretDB v1 sends every filter as a prepared statement with the field name as a parameter,
# `WHERE _jsonb->$1 @> $2`, cached per connection. After five executions PostgreSQL may switch
# such a statement to a generic plan, and a generic plan cannot match the index expression
# (_jsonb -> '_id'): it is a sequential scan. It is chosen while a table is small (the scan
# is as cheap as the index) and kept as the table grows, until an ANALYZE invalidates it:
# an update by _id took 1 ms at 10^3 documents and 40-70 ms right after a bulk growth to
# 10^5 (400+ ms at 10^6, the notifier's collapsed burst; docs/PERFORMANCE.md, code email).
# Custom plans (planned with the values, so the GIN companions answer) cost a few tenths of a
# millisecond of planning instead.
# fsync = off: a commit writes its WAL to the kernel but does not wait for the disk, which
# cost a fifth of PostgreSQL's CPU per command (deploy/local/README.md, "Its CPU"). A killed
# or restarted server loses nothing (the kernel holds the writes); only a crash of the machine
# itself can, and this database is disposable (`infra.sh down` and up makes a new one).
# ALTER SYSTEM + reload reaches a running server's sessions too, without a restart. Idempotent.
postgres_settings() {
	local bin
	bin=$(postgres_bin_dir)
	PGPASSWORD=$(<"$(postgres_password_file)") "$bin/psql" -h "$LOOPBACK" -p "$POSTGRES_PORT" \
		-U "$POSTGRES_ROLE" -d "$POSTGRES_DB" -q -v ON_ERROR_STOP=1 \
		-c "ALTER SYSTEM SET plan_cache_mode = 'force_custom_plan'" \
		-c "ALTER SYSTEM SET fsync = off" \
		-c "SELECT pg_reload_conf()" >/dev/null ||
		die "postgres: applying the settings failed"
}

postgres_up() {
	local pid
	if pid=$(live_pid postgres postgres) && postgres_ping; then
		log "postgres: already running (pid $pid) on $LOOPBACK:$POSTGRES_PORT"
		postgres_settings
		postgres_gin_companions
		return 0
	fi
	postgres_install
	postgres_prepare_dir
	postgres_init
	ensure_port_free "$POSTGRES_PORT" "PostgreSQL" PORTAL_POSTGRES_PORT
	local started bin
	started=$(now_ms)
	bin=$(postgres_bin_dir)
	log "postgres: starting on $LOOPBACK:$POSTGRES_PORT (data in $POSTGRES_DIR/data)"
	local logfile="$LOCAL_DIR/postgres.log"
	touch "$logfile"
	[[ $(id -u) -eq 0 ]] && chown postgres "$logfile"
	local as_postgres=()
	[[ $(id -u) -eq 0 ]] && as_postgres=(setpriv --reuid=postgres --regid=postgres --init-groups --)
	start_detached postgres "$logfile" "${as_postgres[@]}" "$bin/postgres" -D "$(postgres_data_dir)" -p "$POSTGRES_PORT" -c listen_addresses="$LOOPBACK"
	if ! wait_until "PostgreSQL" "$POSTGRES_START_DEADLINE" postgres_ping; then
		tail -n 30 "$logfile" >&2 || true
		postgres_down
		die "postgres did not answer within ${POSTGRES_START_DEADLINE}s; see $logfile"
	fi
	postgres_create_db
	postgres_settings
	postgres_gin_companions
	pid=$(live_pid postgres postgres) || die "postgres exited; see $logfile"
	log "postgres: ready in $(elapsed_since "$started") (pid $pid)"
	assert_loopback_only postgres "$pid" $(pgrep -P "$pid" 2>/dev/null)
}

# SIGINT is PostgreSQL's fast shutdown (SIGTERM would wait for every client to leave).
postgres_down() {
	local pid
	if pid=$(live_pid postgres postgres); then
		log "stopping postgres (pid $pid)"
		kill -INT "$pid" 2>/dev/null || true
		local stop_at=$((SECONDS + 30))
		while kill -0 "$pid" 2>/dev/null && ((SECONDS < stop_at)); do sleep 0.3; done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	fi
	rm -f "$(pid_file postgres)"
}

postgres_status() {
	local pid
	if pid=$(live_pid postgres postgres); then
		echo "postgres  running   pid $pid  $LOOPBACK:$POSTGRES_PORT  (FerretDB's storage)"
	else
		echo "postgres  stopped"
	fi
}
