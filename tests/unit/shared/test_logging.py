"""Log lines are JSON objects and never carry a secret or a full address."""

from __future__ import annotations

import io
import json
import logging

import pytest
import structlog
from portal_shared.logging import (
    REDACTED,
    audit,
    configure_logging,
    get_logger,
    mask_email,
    scrub_text,
)

SECRETS = [
    "Hunter2!Hunter2!",
    "493817",
    "r3fr3sh-t0ken-value",
    "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1In0.c2ln",
]


@pytest.fixture
def stream() -> io.StringIO:
    out = io.StringIO()
    configure_logging("testsvc", "debug", stream=out)
    return out


def test_mask_email_keeps_first_letter_and_domain() -> None:
    assert mask_email("jane.doe@example.org") == "j***@example.org"
    assert mask_email("write to j@x.io now") == "write to j***@x.io now"


def test_secrets_are_redacted_wherever_they_appear(stream: io.StringIO) -> None:
    log = get_logger("t")
    with structlog.contextvars.bound_contextvars(user_id="u-1", authorization="Bearer abc.def"):
        log.info(
            "signed_in",
            password=SECRETS[0],
            code=SECRETS[1],
            refresh_token=SECRETS[2],
            status_code=200,
            headers={"Authorization": "Bearer " + SECRETS[3], "Cookie": "s=1"},
            note=f"sent code to jane@example.org with {SECRETS[3]}",
            url="https://x/dl?exp=1&sig=abcdef&uid=u",
            items=[{"reset_code": "111111"}],
        )
    logging.getLogger("uvicorn.error").warning("login for jane@example.org token %s", SECRETS[3])
    log.info("after")
    text = stream.getvalue()
    for secret in [*SECRETS, "jane@example.org", "abcdef", "111111", "abc.def"]:
        assert secret not in text, secret
    records = [json.loads(line) for line in text.splitlines()]
    first = records[0]
    assert first["event"] == "signed_in" and first["service.name"] == "testsvc"
    assert first["level"] == "info" and first["timestamp"].endswith("Z")
    assert first["password"] == first["code"] == first["refresh_token"] == "[REDACTED]"
    assert first["status_code"] == 200 and first["user_id"] == "u-1"
    assert "j***@example.org" in first["note"]
    assert records[1]["logger"] == "uvicorn.error"
    assert "j***@example.org" in records[1]["event"]


def test_every_line_is_one_json_object(stream: io.StringIO) -> None:
    get_logger().info("a", n=1)
    try:
        raise ValueError("boom")
    except ValueError:
        get_logger().exception("failed")
    text = stream.getvalue()
    parsed = [json.loads(line) for line in text.splitlines()]
    assert [p["event"] for p in parsed] == ["a", "failed"]
    assert "ValueError: boom" in parsed[1]["exception"]


def test_an_audit_line_leaves_out_what_it_does_not_know(stream: io.StringIO) -> None:
    audit(
        get_logger(),
        "password_change",
        outcome="failure",
        reason="x",
        user_id=None,
        client_ip="::1",
    )
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert "user_id" not in line
    assert line["client.address"] == "::1" and line["reason"] == "x"


def test_the_quick_check_lets_no_secret_through_that_the_patterns_catch() -> None:
    """scrub_text returns a text untouched after one search when no pattern can match: each
    kind of secret, in any case, still gets the full treatment."""
    from portal_shared import logging as portal_logging

    def every_pattern(text: str) -> str:
        text = portal_logging._URL_PASSWORD.sub(rf"\g<1>{REDACTED}@", text)
        text = portal_logging._BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
        text = portal_logging._JWT.sub(REDACTED, text)
        text = portal_logging._URL_SECRET.sub(rf"\g<1>{REDACTED}", text)
        return mask_email(text)

    samples = [
        "amqp://guest:s3cret@127.0.0.1:5672/",
        "AUTHORIZATION: BEARER abc.def-ghi",
        "basic dXNlcjpwYXNz",
        "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl",
        "/v1/downloads/x/f.mp4?exp=1&SIG=abcdef&uid=u",
        "mail to Jane.Doe@Example.ORG",
        "6ea74947-e249-4a29-a564-de37d54c1fa4",
        "/v1/videos/{video_id}/renditions/{rendition_id}/download-links",
        "2026-12-01T12:00:00.000000Z",
    ]
    for text in samples:
        assert scrub_text(text) == every_pattern(text), text
    assert scrub_text(samples[0]) != samples[0] and scrub_text(samples[6]) == samples[6]


def test_each_line_names_its_logger_and_one_below_the_level_is_not_written() -> None:
    out = io.StringIO()
    configure_logging("testsvc", "info", stream=out)
    get_logger("catalog.service_layer.downloads").info("named")
    get_logger().info("unnamed")  # the calling module's name
    get_logger("quiet").debug("below the level")
    logging.getLogger("pymongo.pool").warning("from stdlib")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(line["event"], line["logger"]) for line in lines] == [
        ("named", "catalog.service_layer.downloads"),
        ("unnamed", __name__),
        ("from stdlib", "pymongo.pool"),
    ]
