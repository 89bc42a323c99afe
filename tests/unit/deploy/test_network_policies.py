"""Default deny, and exactly the flows the portal needs allowed on top of it."""

from __future__ import annotations

from urllib.parse import urlsplit

from .manifests import (
    COMPONENT,
    NAME,
    PORTS,
    Doc,
    is_portal,
    named,
    of_kind,
    pod_labels,
)
from .netpol import (
    anywhere,
    egress_allowed,
    ingress_allowed,
    is_default_deny,
    namespace,
    pods_labelled,
)

INGRESS_CONTROLLER_NAMESPACE = "ingress-nginx"
TOKEN_VERIFIERS = ("catalog", "transcript")


def portal_pods(docs: list[Doc]) -> list[dict[str, str]]:
    return [pod_labels(d) for d in of_kind(docs, "Deployment") if is_portal(d)]


def test_the_namespace_denies_by_default(overlay_docs):
    _, docs = overlay_docs
    assert any(is_default_deny(policy) for policy in of_kind(docs, "NetworkPolicy"))


def test_every_portal_pod_resolves_names_and_reaches_mongodb_and_rabbitmq(overlay_docs):
    _, docs = overlay_docs
    # The labels the operators put on their pods, derived from the resources' names.
    mongodb = {"app": f"{of_kind(docs, 'MongoDBCommunity')[0]['metadata']['name']}-svc"}
    rabbitmq = {NAME: of_kind(docs, "RabbitmqCluster")[0]["metadata"]["name"]}
    dns = namespace("kube-system")
    for pod in portal_pods(docs):
        assert egress_allowed(docs, pod, dns, 53, protocol="UDP"), pod
        assert egress_allowed(docs, pod, pods_labelled(mongodb), 27017), pod
        assert egress_allowed(docs, pod, pods_labelled(rabbitmq), 5672), pod
        assert ingress_allowed(docs, mongodb, pods_labelled(pod), 27017), pod
        assert ingress_allowed(docs, rabbitmq, pods_labelled(pod), 5672), pod


def test_public_apis_accept_the_ingress_controller(overlay_docs):
    _, docs = overlay_docs
    deployments = named(docs, "Deployment")
    routed = {
        path["backend"]["service"]["name"]
        for ingress in of_kind(docs, "Ingress")
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert routed == {"identity-api", "catalog-api", "transcript-api"}
    controller = namespace(INGRESS_CONTROLLER_NAMESPACE)
    for service_name in routed:
        service = named(docs, "Service")[service_name]
        selector = service["spec"]["selector"]
        pod = next(
            pod_labels(d) for d in deployments.values() if pod_labels(d).items() >= selector.items()
        )
        assert ingress_allowed(docs, pod, controller, PORTS[pod[NAME]]), service_name


def test_only_public_apis_accept_the_ingress_controller(overlay_docs):
    _, docs = overlay_docs
    controller = namespace(INGRESS_CONTROLLER_NAMESPACE)
    for pod in portal_pods(docs):
        public = pod[NAME] != "notifier" and pod.get(COMPONENT) == "api"
        assert ingress_allowed(docs, pod, controller, PORTS[pod[NAME]]) == public, pod


def test_token_verifiers_fetch_identity_jwks(overlay_docs):
    _, docs = overlay_docs
    identity_api = next(p for p in portal_pods(docs) if p[NAME] == "identity")
    for pod in portal_pods(docs):
        if pod[NAME] in TOKEN_VERIFIERS:
            assert egress_allowed(docs, pod, pods_labelled(identity_api), 8001), pod
            assert ingress_allowed(docs, identity_api, pods_labelled(pod), 8001), pod


def test_only_the_notifier_reaches_its_smtp_server(overlay_docs):
    _, docs = overlay_docs
    smtp = urlsplit(named(docs, "ConfigMap")["notifier-config"]["data"]["SMTP_URL"])
    host_pods = {NAME: smtp.hostname}  # in-cluster relay (mailpit) or an outside address
    for pod in portal_pods(docs):
        reaches = egress_allowed(docs, pod, anywhere, smtp.port) or egress_allowed(
            docs, pod, pods_labelled(host_pods), smtp.port
        )
        assert reaches == (pod[NAME] == "notifier"), (pod, smtp.geturl())


def test_the_checker_sees_a_missing_rule():
    docs: list[Doc] = [
        {
            "kind": "NetworkPolicy",
            "metadata": {"name": "deny"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
        },
    ]
    pod = {NAME: "catalog"}
    assert is_default_deny(docs[0])
    assert not egress_allowed(docs, pod, namespace("kube-system"), 53, protocol="UDP")
    docs.append(
        {
            "kind": "NetworkPolicy",
            "metadata": {"name": "dns"},
            "spec": {
                "podSelector": {"matchLabels": pod},
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [
                            {
                                "namespaceSelector": {
                                    "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                                }
                            }
                        ],
                        "ports": [{"protocol": "UDP", "port": 53}],
                    }
                ],
            },
        },
    )
    assert egress_allowed(docs, pod, namespace("kube-system"), 53, protocol="UDP")
    assert not egress_allowed(docs, pod, namespace("kube-system"), 53, protocol="TCP")
    assert not egress_allowed(
        docs, {NAME: "identity"}, namespace("kube-system"), 53, protocol="UDP"
    )
