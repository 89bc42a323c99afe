"""Structural rules for the manifests; each check returns the problems it found (empty: ok).

Returning every problem instead of failing at the first one lets a test name all the
Deployments a change broke at once. The same checks run on the source files and, when
kustomize is installed, on the rendered overlays.
"""

from __future__ import annotations

import re

from .manifests import (
    COMPONENT,
    NAME,
    PORTS,
    ROLES,
    Doc,
    is_portal,
    named,
    of_kind,
    pod_labels,
    pod_spec,
    selects,
)

REQUIRED_ENV = ("MONGODB_URL", "AMQP_URL")
MIN_GRACE_SECONDS = 30


def container_env(container: Doc, docs: list[Doc]) -> dict[str, object]:
    """Names the container's environment defines: envFrom sources found in docs, then env."""
    values: dict[str, object] = {}
    config_maps, secrets = named(docs, "ConfigMap"), named(docs, "Secret")
    for source in container.get("envFrom") or []:
        if "configMapRef" in source:
            values.update((config_maps.get(source["configMapRef"]["name"]) or {}).get("data", {}))
        if "secretRef" in source:
            secret = secrets.get(source["secretRef"]["name"]) or {}
            values.update({**secret.get("data", {}), **secret.get("stringData", {})})
    for entry in container.get("env") or []:
        values[entry["name"]] = entry.get("value", entry.get("valueFrom"))
    return values


def _probe_problems(name: str, container: Doc, portal: bool) -> list[str]:
    """The portal's probes hit its ops endpoints; anything else just has to be probed."""
    problems = []
    port_names = {port.get("name") for port in container.get("ports") or []}
    port_numbers = {port["containerPort"] for port in container.get("ports") or []}
    expected = {"livenessProbe": "/healthz", "readinessProbe": "/readyz"}
    if portal:
        expected["startupProbe"] = "/healthz"
    for probe, path in expected.items():
        http = (container.get(probe) or {}).get("httpGet") or {}
        if http.get("path") != path and (portal or not http.get("path")):
            problems.append(f"{name}: {probe} must GET {path}, has {http.get('path')}")
        if http.get("port") not in port_names | port_numbers:
            problems.append(f"{name}: {probe} port {http.get('port')} is not a container port")
    return problems


def _security_problems(name: str, pod: Doc, container: Doc) -> list[str]:
    problems = []
    pod_context, context = pod.get("securityContext") or {}, container.get("securityContext") or {}

    def setting(key: str) -> object:
        return context.get(key, pod_context.get(key))

    if setting("runAsNonRoot") is not True:
        problems.append(f"{name}: runAsNonRoot must be true")
    if setting("runAsUser") == 0:
        problems.append(f"{name}: runs as uid 0")
    if context.get("readOnlyRootFilesystem") is not True:
        problems.append(f"{name}: readOnlyRootFilesystem must be true")
    if context.get("allowPrivilegeEscalation") is not False:
        problems.append(f"{name}: allowPrivilegeEscalation must be false")
    if "ALL" not in ((context.get("capabilities") or {}).get("drop") or []):
        problems.append(f"{name}: capabilities must drop ALL")
    if (setting("seccompProfile") or {}).get("type") != "RuntimeDefault":
        problems.append(f"{name}: seccompProfile must be RuntimeDefault")
    return problems


def _resource_problems(name: str, container: Doc) -> list[str]:
    resources = container.get("resources") or {}
    return [
        f"{name}: resources.{kind}.{resource} missing"
        for kind in ("requests", "limits")
        for resource in ("cpu", "memory")
        if resource not in (resources.get(kind) or {})
    ]


def deployment_problems(docs: list[Doc]) -> list[str]:
    """Probes, resources and security of every Deployment; the rest for the portal's own."""
    problems = []
    for deployment in of_kind(docs, "Deployment"):
        name, pod = deployment["metadata"]["name"], pod_spec(deployment)
        portal = is_portal(deployment)
        if pod.get("automountServiceAccountToken") is not False:
            problems.append(f"{name}: automountServiceAccountToken must be false")
        for container in pod["containers"]:
            problems += _probe_problems(name, container, portal)
            problems += _security_problems(name, pod, container)
            problems += _resource_problems(name, container)
        if portal:
            problems += _portal_problems(deployment, docs)
    return problems


def _portal_problems(deployment: Doc, docs: list[Doc]) -> list[str]:
    name, pod = deployment["metadata"]["name"], pod_spec(deployment)
    service = pod_labels(deployment).get(NAME, "")
    problems = []
    if pod.get("serviceAccountName") not in named(docs, "ServiceAccount"):
        problems.append(f"{name}: serviceAccountName {pod.get('serviceAccountName')} not defined")
    if (pod.get("terminationGracePeriodSeconds") or 30) < MIN_GRACE_SECONDS:
        problems.append(f"{name}: terminationGracePeriodSeconds below {MIN_GRACE_SECONDS}")
    container = pod["containers"][0]
    command = list(container.get("command") or []) + list(container.get("args") or [])
    if len(command) != 2 or command[0] != service or command[1] not in ROLES:
        problems.append(f"{name}: command+args {command} is not `{service} <role>`")
    if container["ports"][0]["containerPort"] != PORTS.get(service):
        problems.append(f"{name}: containerPort is not {service}'s port {PORTS.get(service)}")
    env = container_env(container, docs)
    problems += [f"{name}: {var} not provided" for var in REQUIRED_ENV if var not in env]
    if str(env.get("HTTP_PORT")) != str(PORTS.get(service)):
        problems.append(f"{name}: HTTP_PORT {env.get('HTTP_PORT')} != containerPort")
    if env.get("HTTP_HOST") != "0.0.0.0":
        problems.append(f"{name}: HTTP_HOST must be 0.0.0.0 in a container")
    grace = float(str(env.get("SHUTDOWN_GRACE_SECONDS", 0)))
    if not 0 < grace < (pod.get("terminationGracePeriodSeconds") or 30):
        problems.append(f"{name}: SHUTDOWN_GRACE_SECONDS must be set below the grace period")
    problems += _env_reference_problems(name, container)
    problems += _writable_path_problems(name, container, env)
    return problems


def _env_reference_problems(name: str, container: Doc) -> list[str]:
    """`$(VAR)` in an env value only expands if VAR is defined earlier in the list."""
    problems, defined = [], set()
    for entry in container.get("env") or []:
        for reference in re.findall(r"\$\((\w+)\)", str(entry.get("value", ""))):
            if reference not in defined:
                problems.append(f"{name}: {entry['name']} uses $({reference}) before it is set")
        defined.add(entry["name"])
    return problems


def _writable_path_problems(name: str, container: Doc, env: dict[str, object]) -> list[str]:
    mounts = {mount["mountPath"] for mount in container.get("volumeMounts") or []}
    needed = {"/tmp", str(env.get("PORTAL_DATA_DIR"))}
    return [f"{name}: nothing writable mounted at {path}" for path in sorted(needed - mounts)]


def secret_file_references(deployment: Doc, docs: list[Doc]) -> set[tuple[str, str]]:
    """(Secret, key) pairs behind the *_FILE settings that point into a secret volume."""
    pod = pod_spec(deployment)
    secret_volumes = {
        volume["name"]: volume["secret"]["secretName"]
        for volume in pod.get("volumes") or []
        if "secret" in volume
    }
    references = set()
    for container in pod["containers"]:
        mounts = {
            mount["mountPath"].rstrip("/"): secret_volumes[mount["name"]]
            for mount in container.get("volumeMounts") or []
            if mount["name"] in secret_volumes
        }
        for key, value in container_env(container, docs).items():
            if not key.endswith("_FILE") or not isinstance(value, str):
                continue
            folder, _, file_name = value.rpartition("/")
            references.add((mounts.get(folder, f"<no secret volume at {folder}>"), file_name))
    return references


def secret_references(docs: list[Doc]) -> set[tuple[str, str]]:
    """Every (Secret, key) the workloads and the operators' resources read."""
    references = set()
    for deployment in of_kind(docs, "Deployment"):
        for container in pod_spec(deployment)["containers"]:
            for entry in container.get("env") or []:
                ref = (entry.get("valueFrom") or {}).get("secretKeyRef")
                if ref:
                    references.add((ref["name"], ref["key"]))
        references |= secret_file_references(deployment, docs)
    for database in of_kind(docs, "MongoDBCommunity"):
        for user in database["spec"].get("users") or []:
            ref = user["passwordSecretRef"]
            references.add((ref["name"], ref.get("key", "password")))
    for user in of_kind(docs, "User"):
        secret = user["spec"]["importCredentialsSecret"]["name"]
        references |= {(secret, "username"), (secret, "password")}
    return references


def operator_written_secrets(docs: list[Doc]) -> set[tuple[str, str]]:
    """The connection-string Secrets the MongoDB operator writes for each user."""
    return {
        (user["connectionStringSecretName"], key)
        for database in of_kind(docs, "MongoDBCommunity")
        for user in database["spec"].get("users") or []
        if "connectionStringSecretName" in user
        for key in ("connectionString.standard", "connectionString.standardSrv")
    }


def routing_problems(docs: list[Doc]) -> list[str]:
    """Services select Deployments; every api has a Service; PDBs and HPAs hit Deployments."""
    deployments = named(docs, "Deployment")
    problems = []
    for service in of_kind(docs, "Service"):
        selector = service["spec"].get("selector") or {}
        if not any(selects(selector, pod_labels(d)) for d in deployments.values()):
            problems.append(f"Service {service['metadata']['name']} selects no Deployment")
    for name, deployment in deployments.items():
        if pod_labels(deployment).get(COMPONENT) == "api":
            services = of_kind(docs, "Service")
            if not any(
                selects(s["spec"].get("selector") or {}, pod_labels(deployment)) for s in services
            ):
                problems.append(f"{name}: no Service selects this api Deployment")
    for budget in of_kind(docs, "PodDisruptionBudget"):
        selector = budget["spec"]["selector"]["matchLabels"]
        if not any(selects(selector, pod_labels(d)) for d in deployments.values()):
            problems.append(f"PDB {budget['metadata']['name']} selects no Deployment")
    for scaler in of_kind(docs, "HorizontalPodAutoscaler"):
        target = scaler["spec"]["scaleTargetRef"]
        if target["kind"] != "Deployment" or target["name"] not in deployments:
            problems.append(f"HPA {scaler['metadata']['name']} targets no Deployment")
    return problems


def coverage_problems(docs: list[Doc]) -> list[str]:
    """Every portal Deployment has a PDB; api and consumer roles have an HPA."""
    budgets = of_kind(docs, "PodDisruptionBudget")
    scaled = {s["spec"]["scaleTargetRef"]["name"] for s in of_kind(docs, "HorizontalPodAutoscaler")}
    problems = []
    for name, deployment in named(docs, "Deployment").items():
        if not is_portal(deployment):
            continue
        if not any(
            selects(b["spec"]["selector"]["matchLabels"], pod_labels(deployment)) for b in budgets
        ):
            problems.append(f"{name}: no PodDisruptionBudget")
        if pod_labels(deployment).get(COMPONENT) in {"api", "consumer"} and name not in scaled:
            problems.append(f"{name}: no HorizontalPodAutoscaler")
    return problems


def ingress_problems(docs: list[Doc]) -> list[str]:
    services = named(docs, "Service")
    problems = []
    for ingress in of_kind(docs, "Ingress"):
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                service = services.get(backend["name"])
                port_names = {
                    p.get("name") for p in (service or {}).get("spec", {}).get("ports", [])
                }
                if service is None or backend["port"].get("name") not in port_names:
                    problems.append(f"{rule['host']}{path['path']}: no such Service port")
                if path["path"] in {"/", ""}:
                    problems.append(f"{rule['host']}: `/` would expose /metrics and /readyz")
    return problems
