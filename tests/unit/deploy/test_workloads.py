"""Deployments, Services, disruption budgets and autoscalers of each overlay."""

from __future__ import annotations

import copy

from .checks import (
    coverage_problems,
    deployment_problems,
    ingress_problems,
    routing_problems,
)
from .manifests import (
    NAME,
    PART_OF,
    SERVICES,
    console_scripts,
    is_portal,
    named,
    of_kind,
    pod_spec,
    source_documents,
)

PROD_ROLES = {
    "identity": {"api", "consumer", "relay"},
    "notifier": {"api", "consumer"},
    "catalog": {"api", "consumer", "relay"},
    "transcript": {"api", "consumer", "relay"},
}


def test_deployments_are_probed_bounded_and_locked_down(overlay_docs):
    _, docs = overlay_docs
    assert of_kind(docs, "Deployment")
    assert deployment_problems(docs) == []


def test_services_budgets_and_autoscalers_hit_deployments(overlay_docs):
    _, docs = overlay_docs
    assert routing_problems(docs) == []
    assert coverage_problems(docs) == []


def test_ingress_routes_only_api_paths_to_existing_services(overlay_docs):
    _, docs = overlay_docs
    assert of_kind(docs, "Ingress")
    assert ingress_problems(docs) == []


def test_commands_are_console_scripts_of_their_service(overlay_docs):
    _, docs = overlay_docs
    for deployment in filter(is_portal, of_kind(docs, "Deployment")):
        container = pod_spec(deployment)["containers"][0]
        service = deployment["spec"]["template"]["metadata"]["labels"][NAME]
        assert container["command"][0] in console_scripts(service)


def test_one_service_account_per_service_without_api_token(overlay_docs):
    _, docs = overlay_docs
    accounts = named(docs, "ServiceAccount")
    assert set(accounts) == set(SERVICES)
    assert all(account["automountServiceAccountToken"] is False for account in accounts.values())


def test_every_object_says_what_it_is_part_of(overlay_docs):
    _, docs = overlay_docs
    unlabelled = [
        f"{doc['kind']}/{doc['metadata']['name']}"
        for doc in docs
        if not (doc["metadata"].get("labels") or {}).get(PART_OF)
    ]
    assert unlabelled == []


def test_prod_runs_every_role_in_its_own_deployment():
    deployments = named(source_documents("prod"), "Deployment")
    for service, roles in PROD_ROLES.items():
        for role in roles:
            args = pod_spec(deployments[f"{service}-{role}"])["containers"][0]["args"]
            assert args == [role]


def _broken_copy(docs):
    docs = copy.deepcopy(docs)
    deployment = named(docs, "Deployment")["identity-api"]
    container = pod_spec(deployment)["containers"][0]
    del container["readinessProbe"]
    container["securityContext"]["readOnlyRootFilesystem"] = False
    container["args"] = ["serve"]
    container["env"] = [e for e in container["env"] if e["name"] != "AMQP_USERNAME"]
    del container["resources"]["limits"]
    pod_spec(deployment)["serviceAccountName"] = "nobody"
    return docs


def test_the_checks_name_what_a_broken_deployment_lacks():
    problems = "\n".join(deployment_problems(_broken_copy(source_documents("prod"))))
    for expected in (
        "readinessProbe must GET /readyz",
        "readOnlyRootFilesystem must be true",
        "is not `identity <role>`",
        "uses $(AMQP_USERNAME) before it is set",
        "resources.limits.cpu missing",
        "serviceAccountName nobody not defined",
    ):
        assert expected in problems


def test_the_checks_notice_an_orphan_autoscaler_and_a_lonely_api():
    docs = copy.deepcopy(source_documents("prod"))
    docs = [
        d for d in docs if not (d["kind"] == "Service" and d["metadata"]["name"] == "catalog-api")
    ]
    named(docs, "HorizontalPodAutoscaler")["identity-consumer"]["spec"]["scaleTargetRef"][
        "name"
    ] = "identity-worker"
    problems = "\n".join(routing_problems(docs) + coverage_problems(docs))
    assert "catalog-api: no Service selects this api Deployment" in problems
    assert "HPA identity-consumer targets no Deployment" in problems
    assert "identity-consumer: no HorizontalPodAutoscaler" in problems
