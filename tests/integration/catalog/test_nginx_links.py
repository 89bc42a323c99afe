"""``CATALOG_LINK_FORM=nginx``: Debian's nginx, run on loopback with the shipped
deploy/nginx/secure_link.conf.example, serves the links the catalog API answers.

Only the media root (``alias``) is put in for the test; the regex, the signed expression and
the development secret are the file's own. ``nginx -t`` must accept it; a link downloads with
Range and the right file name; a tampered link is 403 and an expired one 410, as nginx
decides them with its own clock.
"""

from __future__ import annotations

import os
import pwd
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import httpx
import pytest
from catalog.domain.demo import demo_media_bytes

from tests.integration.catalog.conftest import Catalog, CatalogFactory
from tests.integration.catalog.test_downloads import link_path

pytestmark = pytest.mark.integration
SAMPLE = Path(__file__).parents[3] / "deploy" / "nginx" / "secure_link.conf.example"
NGINX = Path("/usr/sbin/nginx")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Nginx:
    base_url: str
    media_root: Path


def write_config(prefix: Path, port: int, media_root: Path) -> Path:
    location = SAMPLE.read_text()
    assert "alias /srv/portal/media/$storage_key;" in location
    location = location.replace("/srv/portal/media/", f"{media_root}/")
    (prefix / "logs").mkdir(parents=True, exist_ok=True)
    (prefix / "secure_link.conf").write_text(location)
    temp = prefix / "temp"
    config = prefix / "nginx.conf"
    # As root, nginx's workers would drop to `nobody`, who cannot read the test's own files.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    config.write_text(
        f"""
{user}
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port};
        server_name localhost;
        include {prefix}/secure_link.conf;
    }}
}}
"""
    )
    temp.mkdir(exist_ok=True)
    return config


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[Nginx]:
    assert NGINX.is_file(), "Debian's nginx is missing: run `make tools` (infra.sh tools)"
    media_root = tmp_path / "media"
    media_root.mkdir()
    prefix = tmp_path / "nginx"
    port = free_port()
    config = write_config(prefix, port, media_root)
    checked = subprocess.run(
        [str(NGINX), "-t", "-p", str(prefix), "-c", str(config), "-e", str(prefix / "logs/e")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert checked.returncode == 0, f"nginx -t refuses the sample:\n{checked.stderr}"
    assert "test is successful" in checked.stderr
    process = subprocess.Popen(
        [str(NGINX), "-p", str(prefix), "-c", str(config), "-e", str(prefix / "logs/e"),
         "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                assert time.monotonic() < deadline, "nginx does not listen"
                time.sleep(0.05)
        yield Nginx(f"http://127.0.0.1:{port}", media_root)
    finally:
        process.terminate()
        process.wait(timeout=10)


def tampered(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()} | changes
    return parts._replace(query=urlencode(query, quote_via=quote)).geturl()


async def nginx_catalog(start_catalog: CatalogFactory, nginx: Nginx, now: datetime) -> Catalog:
    from portal_shared.clock import ManualClock

    # No nginx secret configured: the development default, the one the sample ships with.
    return await start_catalog(
        link_form="nginx",
        nginx_files_base_url=nginx.base_url,
        media_dir=nginx.media_root,
        reissue_limit=1,
        clock=ManualClock(now),
    )


async def ready_hex_user(catalog: Catalog) -> str:
    user_id = uuid.uuid4().hex  # identity's ids: 32 hex digits
    await catalog.verify_user(user_id)
    await catalog.until_verified(user_id)
    return user_id


async def test_nginx_serves_catalog_links_with_range_and_file_name(
    start_catalog: CatalogFactory, nginx: Nginx
) -> None:
    catalog = await nginx_catalog(start_catalog, nginx, datetime.now(UTC))
    video = (await catalog.load_demo())[0]
    rendition = video.rendition("720p25")
    assert rendition is not None
    content = demo_media_bytes(rendition.storage_key, rendition.file_size)
    user_id = await ready_hex_user(catalog)

    issued = await catalog.client.post(link_path(video, "720p25"), headers=catalog.auth(user_id))
    assert issued.status_code == 201, issued.text
    url = issued.json()["url"]
    assert url.startswith(f"{nginx.base_url}/files/{user_id}/{issued.json()['download_id']}/")

    async with httpx.AsyncClient(timeout=10) as http:
        whole = await http.get(url)
        assert whole.status_code == 200, whole.text
        assert whole.content == content
        disposition = whole.headers["content-disposition"]
        assert disposition == f"attachment; filename*=UTF-8''{quote(rendition.file_name, safe='')}"
        assert whole.headers["cache-control"] == "private, no-store"

        part = await http.get(url, headers={"Range": "bytes=100-299"})
        assert part.status_code == 206
        assert part.content == content[100:300]
        assert part.headers["content-range"] == f"bytes 100-299/{len(content)}"
        beyond = await http.get(url, headers={"Range": f"bytes={len(content) + 10}-"})
        assert beyond.status_code == 416

        expires = parse_qs(urlsplit(url).query)["expires"][0]
        for forged in (
            url.replace(f"/files/{user_id}/", f"/files/{uuid.uuid4().hex}/"),  # another user
            tampered(url, expires=str(int(expires) + 86_400)),  # a longer life
            tampered(url, name="evil.exe"),  # another file name
            tampered(url, md5="A" * 22),
            url.split("?")[0],  # no signature at all
        ):
            assert (await http.get(forged)).status_code == 403, forged
        dashed = url.replace(f"/files/{user_id}/", f"/files/{uuid.UUID(user_id)}/")
        assert (await http.get(dashed)).status_code == 404  # not an id identity issues


async def test_nginx_refuses_an_expired_link_with_410_and_reissue_fixes_it(
    start_catalog: CatalogFactory, nginx: Nginx
) -> None:
    # The catalog's clock an hour behind nginx's: its 15-minute links are already expired.
    catalog = await nginx_catalog(start_catalog, nginx, datetime.now(UTC) - timedelta(hours=1))
    video = (await catalog.load_demo())[0]
    user_id = await ready_hex_user(catalog)
    first = await catalog.client.post(link_path(video, "audio"), headers=catalog.auth(user_id))
    assert first.status_code == 201, first.text
    download_id = first.json()["download_id"]
    async with httpx.AsyncClient(timeout=10) as http:
        assert (await http.get(first.json()["url"])).status_code == 410

        catalog.clock.advance(hours=1)
        fresh = await catalog.client.post(
            f"/v1/downloads/{download_id}/reissue", headers=catalog.auth(user_id)
        )
        assert fresh.status_code == 201, fresh.text
        assert fresh.json()["download_id"] == download_id
        assert (await http.get(fresh.json()["url"])).status_code == 200
    capped = await catalog.client.post(
        f"/v1/downloads/{download_id}/reissue", headers=catalog.auth(user_id)
    )
    assert capped.status_code == 409 and capped.json()["code"] == "reissue_limit_reached"


def test_production_refuses_the_development_nginx_secret(tmp_path: Path) -> None:
    from catalog.keys import DEV_NGINX_SECRET, MissingLinkKeys, resolve_nginx_secret
    from catalog.settings import CatalogSettings

    assert DEV_NGINX_SECRET in SAMPLE.read_text()
    production = {"environment": "production", "data_dir": tmp_path, "link_form": "nginx"}
    with pytest.raises(MissingLinkKeys):
        resolve_nginx_secret(CatalogSettings(**production))
    with pytest.raises(MissingLinkKeys):
        resolve_nginx_secret(CatalogSettings(**production, nginx_secret=DEV_NGINX_SECRET))
    assert resolve_nginx_secret(CatalogSettings(**production, nginx_secret="s3cr3t")) == "s3cr3t"
    development = CatalogSettings(environment="development", data_dir=tmp_path, link_form="nginx")
    assert resolve_nginx_secret(development) == DEV_NGINX_SECRET
