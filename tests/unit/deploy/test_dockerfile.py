"""The image recipe (deploy/docker/Dockerfile) and the build context (.dockerignore)."""

from __future__ import annotations

import re

import pytest

from .dockerfile import DockerIgnore, Instruction, assignments, instructions, parse
from .manifests import REPO, SERVICES, console_scripts, workspace_members

DOCKERFILE = REPO / "deploy" / "docker" / "Dockerfile"
SECRET_NAME = re.compile(r"KEY|SECRET|PASSWORD|TOKEN|CREDENTIAL", re.IGNORECASE)


@pytest.fixture(scope="module")
def recipe():
    return parse(DOCKERFILE.read_text())


def uv_syncs(stage) -> list[list[str]]:
    return [
        item.words()[item.words().index("uv") :]
        for item in stage.of("RUN")
        if "uv sync" in item.arguments
    ]


def test_reader_joins_continuations_and_skips_comments():
    text = "# syntax=docker/dockerfile:1\nFROM a AS b\n# note\nRUN one \\\n  # inner\n  two\n"
    assert [(i.keyword, i.arguments) for i in instructions(text)] == [
        ("FROM", "a AS b"),
        ("RUN", "one two"),
    ]


def test_multi_stage_with_the_same_python_in_builder_and_runtime(recipe):
    assert len(recipe.stages) >= 2
    builder, runtime = recipe.stage("builder"), recipe.final
    # The venv is copied across stages: its interpreter path must exist in both.
    assert recipe.resolve(builder.base) == recipe.resolve(runtime.base)
    assert re.fullmatch(r"python:3\.11(\.\d+)?-slim(-\w+)?", recipe.resolve(runtime.base))


def test_runtime_runs_as_the_unprivileged_user(recipe):
    users = recipe.final.of("USER")
    assert users, "the final stage must switch to a non-root USER"
    user = users[-1].arguments.split(":")[0]
    assert user not in {"root", "0"}
    assert user == "10001"


def test_only_the_service_package_is_installed_from_the_lock(recipe):
    syncs = uv_syncs(recipe.stage("builder"))
    assert syncs, "the builder must install with uv sync"
    for command in syncs:
        assert {"--frozen", "--locked"} & set(command), command
        assert "--no-dev" in command
        assert "--all-packages" not in command
        assert command[command.index("--package") + 1] in {"${SERVICE}", "$SERVICE"}
    assert "--no-editable" in syncs[-1], "the runtime venv must not point back at /src"


def test_builder_copies_only_manifests_and_the_two_packages(recipe):
    from_context = [i for i in recipe.stage("builder").of("COPY") if "--from" not in i.arguments]
    sources = {source for item in from_context for source in item.words()[:-1]}
    members = {f"{member}/pyproject.toml" for member in workspace_members()}
    assert members <= sources, f"uv needs every member's pyproject.toml: {members - sources}"
    packages = {"shared/src", "services/${SERVICE}/src"}
    assert sources - members - {"pyproject.toml", "uv.lock"} == packages
    assert "." not in sources


def test_runtime_takes_the_venv_and_no_source(recipe):
    for item in recipe.final.of("COPY") + recipe.final.of("ADD"):
        assert item.keyword == "COPY" and "--from=builder" in item.arguments, item


def test_no_remote_add_anywhere(recipe):
    every = [item for stage in recipe.stages for item in stage.instructions]
    assert not [item for item in every if item.keyword == "ADD"], "use COPY (no URLs, no tars)"


def test_no_secret_is_baked_in(recipe):
    every = [item for stage in recipe.stages for item in stage.instructions]
    settings = [i for i in every if i.keyword in {"ENV", "ARG", "LABEL"}]
    baked = {
        key: value
        for item in settings
        for key, value in assignments(item).items()
        if SECRET_NAME.search(key) and value
    }
    assert not baked
    assert not SECRET_NAME.search(" ".join(recipe.global_args))


def test_secret_detection_would_catch_an_env_password():
    item = Instruction("ENV", 'APP=1 DB_PASSWORD="hunter2"', 1)
    assert assignments(item) == {"APP": "1", "DB_PASSWORD": "hunter2"}
    assert assignments(Instruction("ENV", "SIGNING_KEY abc def", 1)) == {"SIGNING_KEY": "abc def"}


def test_entrypoint_is_exec_form_and_service_is_declared_where_used(recipe):
    entrypoint = recipe.final.of("ENTRYPOINT")
    assert entrypoint and entrypoint[-1].exec_form(), "exec form: SIGTERM reaches the service"
    for stage in recipe.stages:
        uses = any("SERVICE}" in item.arguments for item in stage.instructions)
        declared = any(item.words()[0] == "SERVICE" for item in stage.of("ARG"))
        assert declared or not uses, f"stage {stage.name} uses ${{SERVICE}} without ARG"


@pytest.mark.parametrize("service", SERVICES)
def test_console_command_is_named_after_the_service(service):
    # The image links /app/.venv/bin/${SERVICE}; Kubernetes runs `<service> <role>`.
    assert service in console_scripts(service)


@pytest.fixture(scope="module")
def dockerignore():
    return DockerIgnore.read(REPO / ".dockerignore")


@pytest.mark.parametrize(
    "path",
    [
        ".git/config",
        ".venv/bin/python",
        ".local/data/identity/signing-key.pem",
        "tests/unit/deploy/test_dockerfile.py",
        "deploy/k8s/dev_secrets.py",
        ".env",
        "services/identity/.env",
        "services/identity/src/identity/__pycache__/cli.cpython-311.pyc",
        "services/identity/scripts/build_common_passwords.py",
    ],
)
def test_context_leaves_out(dockerignore, path):
    assert dockerignore.excludes(path)


@pytest.mark.parametrize("service", SERVICES)
def test_context_keeps_what_the_recipe_copies(dockerignore, recipe, service):
    for item in recipe.stage("builder").of("COPY"):
        if "--from" in item.arguments:
            continue
        for source in item.words()[:-1]:
            path = source.replace("${SERVICE}", service)
            probe = f"{path}/x.py" if path.endswith("/src") else path
            assert not dockerignore.excludes(probe), f"{probe} is ignored but copied"
    assert not dockerignore.excludes(f"services/{service}/src/{service}/templates/a.j2")
