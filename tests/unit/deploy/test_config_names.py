"""The ConfigMaps set only settings the services read, and every secret a service needs.

The environment names are derived from each service's pydantic-settings class (prefix plus
field name, or the field's aliases), so renaming a setting in code fails here instead of
silently running with a default in the cluster.
"""

from __future__ import annotations

import importlib

import pytest
from pydantic import AliasChoices

from .manifests import SERVICES, named, source_documents

SETTINGS_CLASSES = {
    "identity": ("identity.settings", "IdentitySettings"),
    "notifier": ("notifier.settings", "NotifierSettings"),
    "catalog": ("catalog.settings", "CatalogSettings"),
    "transcript": ("transcript.settings", "TranscriptSettings"),
}
# Settings without which a service refuses to start (or cannot verify tokens) in production.
REQUIRED = {
    "identity": {
        "IDENTITY_SIGNING_KEY_FILE",
        "IDENTITY_CODE_HMAC_KEY_FILE",
        "IDENTITY_SEALING_PRIVATE_KEY_FILE",
        "IDENTITY_NOTIFIER_PUBLIC_KEY_FILE",
    },
    "notifier": {"NOTIFIER_PRIVATE_KEY_FILE", "NOTIFIER_IDENTITY_PUBLIC_KEYS_FILE", "SMTP_URL"},
    "catalog": {"CATALOG_LINK_KEYS_FILE", "CATALOG_JWKS_URL"},
    "transcript": {"TRANSCRIPT_JWKS_URL"},
}
COMMON = {"PORTAL_ENV", "PORTAL_DATA_DIR", "HTTP_HOST", "LOG_LEVEL", "SHUTDOWN_GRACE_SECONDS"}


def environment_names(settings_class: type) -> set[str]:
    prefix = settings_class.model_config.get("env_prefix", "")
    names = set()
    for field_name, field in settings_class.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names |= {choice.upper() for choice in alias.choices if isinstance(choice, str)}
        elif isinstance(alias, str):
            names.add(alias.upper())
        else:
            names.add(f"{prefix}{field_name}".upper())
    return names


def settings_class(service: str) -> type:
    module_name, class_name = SETTINGS_CLASSES[service]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise AssertionError(f"{module_name} is missing ({exc})") from exc
    return getattr(module, class_name)


def config_data(service: str) -> dict[str, str]:
    return named(source_documents("prod"), "ConfigMap")[f"{service}-config"]["data"]


@pytest.mark.parametrize("service", SERVICES)
def test_every_configured_name_is_a_setting(service):
    known = environment_names(settings_class(service))
    assert set(config_data(service)) - known == set()


@pytest.mark.parametrize("service", SERVICES)
def test_every_required_setting_is_configured(service):
    assert REQUIRED[service] | COMMON <= set(config_data(service))


def test_token_issuer_and_audience_agree_across_services():
    identity = config_data("identity")
    for verifier in ("catalog", "transcript"):
        data = config_data(verifier)
        prefix = verifier.upper()
        assert data[f"{prefix}_TOKEN_ISSUER"] == identity["IDENTITY_ISSUER"]
        assert data[f"{prefix}_TOKEN_AUDIENCE"] == identity["IDENTITY_AUDIENCE"]
        assert data[f"{prefix}_JWKS_URL"].startswith(
            f"http://identity-api:{identity['HTTP_PORT']}/"
        )


def test_environment_names_follow_prefixes_and_aliases():
    from pydantic import Field
    from pydantic_settings import BaseSettings, SettingsConfigDict

    class Example(BaseSettings):
        model_config = SettingsConfigDict(env_prefix="EXAMPLE_")
        plain: int = 1
        shared: str = Field("x", validation_alias=AliasChoices("SHARED_URL", "shared"))

    assert environment_names(Example) == {"EXAMPLE_PLAIN", "SHARED_URL", "SHARED"}
