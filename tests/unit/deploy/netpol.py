"""Answering "may these pods talk to that peer on this port?" from NetworkPolicy objects.

Deliberately small: pod and namespace selectors by matchLabels, ipBlocks, ports by number or
name. Enough for the portal's policies, which use nothing else.
"""

from __future__ import annotations

from collections.abc import Callable

from .manifests import Doc, of_kind, selects

Peer = Doc
PeerTest = Callable[[Peer], bool]
NAMESPACE_NAME = "kubernetes.io/metadata.name"


def is_default_deny(policy: Doc) -> bool:
    spec = policy["spec"]
    return (
        not (spec.get("podSelector") or {}).get("matchLabels")
        and not (spec.get("podSelector") or {}).get("matchExpressions")
        and {"Ingress", "Egress"} <= set(spec.get("policyTypes") or [])
        and not spec.get("ingress")
        and not spec.get("egress")
    )


def pods_labelled(labels: dict[str, str]) -> PeerTest:
    """Peers in the policy's own namespace whose selector takes pods with these labels."""

    def test(peer: Peer) -> bool:
        selector = (peer.get("podSelector") or {}).get("matchLabels") or {}
        return "namespaceSelector" not in peer and selects(selector, labels)

    return test


def namespace(name: str) -> PeerTest:
    def test(peer: Peer) -> bool:
        labels = (peer.get("namespaceSelector") or {}).get("matchLabels") or {}
        return labels.get(NAMESPACE_NAME) == name

    return test


def anywhere(peer: Peer) -> bool:
    return (peer.get("ipBlock") or {}).get("cidr") == "0.0.0.0/0"


def _port_allowed(rule: Doc, port: int | str, protocol: str) -> bool:
    ports = rule.get("ports")
    if not ports:
        return True
    return any(
        entry.get("port") == port and entry.get("protocol", "TCP") == protocol for entry in ports
    )


def _allowed(
    docs: list[Doc],
    direction: str,
    pod: dict[str, str],
    peer: PeerTest,
    ports: tuple[int | str, ...],
    protocol: str,
) -> bool:
    peers_field = "to" if direction == "egress" else "from"
    for policy in of_kind(docs, "NetworkPolicy"):
        spec = policy["spec"]
        selector = (spec.get("podSelector") or {}).get("matchLabels") or {}
        if selector and not selects(selector, pod):
            continue
        for rule in spec.get(direction) or []:
            peers = rule.get(peers_field)
            peer_ok = not peers or any(peer(candidate) for candidate in peers)
            if peer_ok and any(_port_allowed(rule, port, protocol) for port in ports):
                return True
    return False


def egress_allowed(
    docs: list[Doc], pod: dict[str, str], peer: PeerTest, *ports: int | str, protocol: str = "TCP"
) -> bool:
    return _allowed(docs, "egress", pod, peer, ports, protocol)


def ingress_allowed(
    docs: list[Doc], pod: dict[str, str], peer: PeerTest, *ports: int | str, protocol: str = "TCP"
) -> bool:
    return _allowed(docs, "ingress", pod, peer, ports, protocol)
