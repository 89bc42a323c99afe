#!/usr/bin/env bash
# Prometheus and promtool (Debian's `prometheus` package) for the monitoring tests: the test
# suite starts its own Prometheus on a loopback port with temporary storage, scrapes the
# services of an end-to-end run and evaluates every dashboard query and alert against it.
# Only installed here, never started: no Prometheus runs outside a test.

PROMETHEUS_BIN=${PROMETHEUS_BIN:-/usr/bin/prometheus}
PROMTOOL_BIN=${PROMTOOL_BIN:-/usr/bin/promtool}

prometheus_install() {
	[[ -x $PROMETHEUS_BIN && -x $PROMTOOL_BIN ]] && return 0
	[[ $(id -u) -eq 0 ]] || die "prometheus is not installed; run as root or: sudo apt-get install prometheus"
	local started
	started=$(now_ms)
	log "prometheus: installing Debian package prometheus (for the monitoring tests)"
	# Without systemd the postinst would start a Prometheus on 0.0.0.0:9090 through
	# invoke-rc.d; a temporary policy-rc.d forbids that (exit 101 = action not allowed).
	local policy=/usr/sbin/policy-rc.d placed_policy=
	if [[ ! -e $policy ]]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && placed_policy=1
	fi
	local rc=0
	{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus; } >&2 || rc=$?
	[[ -n $placed_policy ]] && rm -f "$policy"
	((rc == 0)) || die "apt-get install prometheus failed (exit $rc)"
	if pgrep -u prometheus -x prometheus >/dev/null 2>&1; then
		log "prometheus: stopping the server started by the package"
		invoke-rc.d prometheus stop >&2 2>&1 || service prometheus stop >&2 2>&1 || true
	fi
	log "prometheus: package installed in $(elapsed_since "$started")"
}

prometheus_status() {
	if [[ -x $PROMETHEUS_BIN ]]; then
		printf '%-9s %-9s %s\n' prometheus installed "$("$PROMETHEUS_BIN" --version 2>&1 | head -1) (started by the tests only)"
	else
		printf '%-9s %-9s %s\n' prometheus missing "installed by infra.sh up"
	fi
}
