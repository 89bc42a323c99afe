"""A private three-node RabbitMQ cluster behind HAProxy, for the node-loss scenarios.

It is ``deploy/local/cluster.sh`` (the same script a person uses by hand) on free ports and in a
private folder under ``.local/private/``; the shared broker is never touched.

    with RabbitCluster() as cluster:
        cluster.url                         # the balancer: what services connect to
        n = cluster.leader("x.notifier.events"); cluster.kill(n); cluster.start(n)
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid

from tests.support.private_infra import PRIVATE_ROOT, REPO_ROOT, Managed, run_script

CLUSTER_SH = REPO_ROOT / "deploy" / "local" / "cluster.sh"


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_block(start: int, size: int) -> int:
    """A base port B such that B..B+size-1 are all free (searched upwards from start)."""
    base = start
    while base < 32600:
        if all(_free(base + i) for i in range(size)):
            return base
        base += size + 7
    raise RuntimeError("no free block of ports for the cluster")


class RabbitCluster(Managed):
    def __init__(self) -> None:
        self.name = f"cluster{uuid.uuid4().hex[:8]}"
        self.dir = PRIVATE_ROOT / self.name
        # Below the kernel's ephemeral range (32768+): a port in it can be taken as the source
        # port of some outgoing connection while a killed node is down, and the node could not
        # listen on it again.
        seed = 20000 + (os.getpid() * 37) % 12000
        amqp = _free_block(seed, 4)  # balancer at amqp, nodes at amqp+1..3
        dist = _free_block(amqp + 50, 4)
        epmd = _free_block(dist + 50, 1)
        self.port = amqp
        self.env = {
            **os.environ,
            "PORTAL_CLUSTER_DIR": str(self.dir),
            "PORTAL_CLUSTER_PORT": str(amqp),
            "PORTAL_CLUSTER_AMQP_BASE": str(amqp),
            "PORTAL_CLUSTER_DIST_BASE": str(dist),
            "PORTAL_CLUSTER_EPMD_PORT": str(epmd),
        }

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def node_url(self, node: int) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port + node}/"

    def _run(self, *args: str, timeout: float = 300) -> str:
        return run_script(CLUSTER_SH, *args, env=self.env, what=self.name, timeout=timeout)

    def up(self) -> None:
        self._run("up")

    def down(self) -> None:
        try:
            self._run("down", timeout=180)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def kill(self, node: int) -> None:
        """SIGKILL node's Erlang VM (returns once it is gone)."""
        self._run("kill", str(node))

    def start(self, node: int) -> None:
        """Boot a killed node again; it rejoins from its own data."""
        self._run("start", str(node))

    def leader(self, queue: str) -> int:
        return int(self._run("leader", queue).strip())

    def members(self, queue: str) -> set[int]:
        return {int(line) for line in self._run("members", queue).split()}

    def status(self) -> str:
        return self._run("status")

    def bring_up(self) -> None:
        self.up()

    def tear_down(self) -> None:
        self.down()
