#!/usr/bin/env bash
# A three-node RabbitMQ cluster behind HAProxy on loopback, for the node-loss tests
# (tests/chaos) and for trying the platform against a cluster by hand.
#
# Usage: deploy/local/cluster.sh up|down|status|env|kill N|start N|leader QUEUE
#   up        install haproxy if missing, start the three nodes in parallel, cluster them,
#             start the balancer; idempotent.
#   down      stop the nodes, the balancer and the cluster's epmd (by pid).
#   status    what runs where.
#   env       print `export AMQP_URL=...` (the balancer).
#   kill N    SIGKILL node N (1-3); start N brings it back into the cluster.
#   leader Q  the node number leading quorum queue Q.
#   members Q the node numbers holding a member of quorum queue Q, one a line.
# Ports and folder: see deploy/local/lib/cluster.sh (PORTAL_CLUSTER_*).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LIB_DIR="$REPO_ROOT/deploy/local/lib"
# shellcheck source=deploy/local/lib/common.sh
. "$LIB_DIR/common.sh"
# shellcheck source=deploy/local/lib/rabbitmq.sh
. "$LIB_DIR/rabbitmq.sh"
# shellcheck source=deploy/local/lib/cluster.sh
. "$LIB_DIR/cluster.sh"

take_lock() {
	mkdir -p "$CLUSTER_DIR"
	exec 9>"$CLUSTER_DIR/cluster.lock"
	flock -w 600 9 || die "another cluster.sh holds $CLUSTER_DIR/cluster.lock"
}

node_arg() {
	[[ ${1:-} =~ ^[123]$ ]] || die "a node number 1, 2 or 3 is needed"
	printf '%s' "$1"
}

case "${1:-}" in
up) take_lock && cluster_up && cluster_status ;;
down) take_lock && cluster_down ;;
status) cluster_status ;;
env) printf 'export AMQP_URL=%q\n' "$(cluster_url)" ;;
kill) cluster_kill "$(node_arg "${2:-}")" ;;
start) take_lock && cluster_start "$(node_arg "${2:-}")" ;;
leader) cluster_leader "${2:?a queue name is needed}" ;;
members) cluster_members "${2:?a queue name is needed}" ;;
*)
	echo "usage: $0 up|down|status|env|kill N|start N|leader QUEUE|members QUEUE" >&2
	exit 2
	;;
esac
