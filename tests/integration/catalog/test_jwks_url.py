"""Access tokens checked with identity's keys fetched over HTTP (``CATALOG_JWKS_URL``).

This is the production path (``portal_shared.access.build_verifier`` -> ``JwksCache`` ->
``httpx_jwks_fetch``): the catalog gets no verifier from the test, only a URL. The JWKS is
served by a real HTTP server on 127.0.0.1, in a thread, as identity's
``/.well-known/jwks.json`` would be.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from identity.domain.tokens import KeySet, issue_access_token

from tests.integration.catalog.conftest import TOKEN_SETTINGS, CatalogFactory
from tests.integration.catalog.test_downloads import link_path, ready_user
from tests.integration.catalog.test_videos import draft

pytestmark = pytest.mark.integration
JWKS_PATH = "/.well-known/jwks.json"


@dataclass
class JwksServer:
    """Serves ``document`` at JWKS_PATH (or ``status`` if not 200); records request paths."""

    document: dict[str, Any]
    status: int = 200
    paths: list[str] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}{JWKS_PATH}"

    def start(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.paths.append(self.path)
                found = self.path == JWKS_PATH
                status = owner.status if found else 404
                body = json.dumps(owner.document if status == 200 else {}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep the test output clean

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def signed_with(keys: KeySet, now: datetime, roles: tuple[str, ...] = ()) -> str:
    return issue_access_token(
        keys,
        user_id=str(uuid.uuid4()),
        email_verified=True,
        roles=roles,
        token_version=1,
        now=now,
        settings=TOKEN_SETTINGS,
    ).token


@pytest.fixture
def identity_keys() -> KeySet:
    return KeySet.generate_dev()


@pytest.fixture
def jwks_server(identity_keys: KeySet) -> Iterator[JwksServer]:
    server = JwksServer(identity_keys.jwks())
    server.start()
    yield server
    server.stop()


async def test_tokens_are_checked_against_the_jwks_fetched_from_the_url(
    start_catalog: CatalogFactory, jwks_server: JwksServer, identity_keys: KeySet
) -> None:
    catalog = await start_catalog(jwks_over_http=True, keys=identity_keys, jwks_url=jwks_server.url)
    assert jwks_server.paths == []  # fetched on demand, not at start-up

    editor = catalog.auth(str(uuid.uuid4()), roles=("editor",))
    created = await catalog.client.post("/v1/editor/videos", json=draft("jwks-url"), headers=editor)
    assert created.status_code == 201, created.text
    assert jwks_server.paths and set(jwks_server.paths) == {JWKS_PATH}

    reader = catalog.auth(str(uuid.uuid4()))
    refused = await catalog.client.post("/v1/editor/videos", json=draft("jwks-2"), headers=reader)
    assert refused.status_code == 403 and refused.json()["code"] == "not_editor"

    # A token signed by a key identity never published: its kid is unknown.
    foreign = signed_with(KeySet.generate_dev(), catalog.clock(), roles=("editor",))
    forged = await catalog.client.post(
        "/v1/editor/videos", json=draft("jwks-3"), headers={"Authorization": f"Bearer {foreign}"}
    )
    assert forged.status_code == 401 and forged.json()["code"] == "unknown_key"

    # The published key's id with a signature that is not its key's.
    header, payload, _ = catalog.token(str(uuid.uuid4()), roles=("editor",)).split(".")
    tampered_token = f"{header}.{payload}.{foreign.split('.')[2]}"
    tampered = await catalog.client.post(
        "/v1/editor/videos",
        json=draft("jwks-4"),
        headers={"Authorization": f"Bearer {tampered_token}"},
    )
    assert tampered.status_code == 401 and tampered.json()["code"] == "token_invalid"

    # Downloads: the token says who, the projection says whether.
    video = (await catalog.load_demo())[0]
    user_id = await ready_user(catalog)
    granted = await catalog.client.post(link_path(video, "audio"), headers=catalog.auth(user_id))
    assert granted.status_code == 201, granted.text
    mine = await catalog.client.get("/v1/me/downloads", headers=catalog.auth(user_id))
    assert [item["download_id"] for item in mine.json()["items"]] == [granted.json()["download_id"]]


async def test_keys_unavailable_is_503_and_public_routes_still_answer(
    start_catalog: CatalogFactory, jwks_server: JwksServer, identity_keys: KeySet
) -> None:
    jwks_server.status = 500  # identity is up but failing
    catalog = await start_catalog(jwks_over_http=True, keys=identity_keys, jwks_url=jwks_server.url)
    editor = catalog.auth(str(uuid.uuid4()), roles=("editor",))
    failing = await catalog.client.get("/v1/editor/videos", headers=editor)
    assert failing.status_code == 503 and failing.json()["code"] == "keys_unavailable"
    assert failing.headers["retry-after"] == "1"
    assert jwks_server.paths == [JWKS_PATH]
    assert (await catalog.client.get("/v1/videos")).status_code == 200  # no token needed

    # Still no keys: a valid token is never refused as unknown_key, and identity's recovery
    # is seen within a second rather than after the 30 s rotation interval.
    again = await catalog.client.get("/v1/editor/videos", headers=editor)
    assert again.status_code == 503 and again.json()["code"] == "keys_unavailable"
    jwks_server.status = 200
    await asyncio.sleep(1.1)
    recovered = await catalog.client.get("/v1/editor/videos", headers=editor)
    assert recovered.status_code == 200, recovered.text
    assert jwks_server.paths == [JWKS_PATH, JWKS_PATH]


async def test_unreachable_jwks_url_is_503(
    start_catalog: CatalogFactory, identity_keys: KeySet
) -> None:
    closed = JwksServer(identity_keys.jwks())
    closed.start()
    url = closed.url
    closed.stop()  # nothing listens on this port any more
    catalog = await start_catalog(jwks_over_http=True, keys=identity_keys, jwks_url=url)
    response = await catalog.client.get("/v1/me/downloads", headers=catalog.auth(str(uuid.uuid4())))
    assert response.status_code == 503 and response.json()["code"] == "keys_unavailable"
