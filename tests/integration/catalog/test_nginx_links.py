"""``CATALOG_LINK_FORM=nginx``: the API answers nginx ``secure_link`` URLs that the sample
location in deploy/nginx/secure_link.conf.example accepts.

No nginx runs here: the test reads the sample's ``location`` regex and ``secure_link_md5``
expression from the file and applies them the way ngx_http_secure_link_module does
(``$uri`` is the decoded path; ``md5`` is base64url of the binary MD5 of the expression;
``expires`` in epoch seconds, compared with the current time). So the code and the
documented configuration cannot drift apart unnoticed.
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import pytest
from catalog.domain.demo import demo_media_bytes

from tests.integration.catalog.conftest import Catalog, CatalogFactory
from tests.integration.catalog.test_downloads import link_path, ready_user

pytestmark = pytest.mark.integration
SAMPLE = Path(__file__).parents[3] / "deploy" / "nginx" / "secure_link.conf.example"
SECRET = "CHANGE-ME-catalog-secure-link-secret"  # the sample's placeholder secret
FILES_BASE = "https://files.portal.test"


class SampleLocation:
    """The sample nginx location, evaluated as nginx would for one request."""

    def __init__(self, text: str, media_root: Path) -> None:
        location = re.search(r"^location ~ (\S+) \{$", text, re.MULTILINE)
        expression = re.search(r'^\s*secure_link_md5 "([^"]+)";$', text, re.MULTILINE)
        alias = re.search(r"^\s*alias (\S+)\$storage_key;$", text, re.MULTILINE)
        assert location and expression and alias, "the sample location changed shape"
        self.pattern = re.compile(location.group(1).replace("(?<", "(?P<"))
        self.expression = expression.group(1)
        self.media_root = media_root

    def status_and_file(self, url: str, now: int) -> tuple[int, Path | None]:
        parts = urlsplit(url)
        uri = unquote(parts.path)  # nginx's $uri
        match = self.pattern.match(uri)
        if match is None:
            return 404, None
        args = {key: values[0] for key, values in parse_qs(parts.query).items()}
        expires = args.get("expires", "")
        text = self.expression.replace("$secure_link_expires", expires).replace("$uri", uri)
        digest = hashlib.md5(text.encode(), usedforsecurity=False).digest()
        expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        if args.get("md5") != expected or not expires.isdigit():
            return 403, None  # $secure_link = ""
        if int(expires) <= now:
            return 410, None  # $secure_link = "0"
        return 200, self.media_root / match.group("storage_key")


def tampered(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()} | changes
    return parts._replace(query=urlencode(query)).geturl()


async def nginx_catalog(start_catalog: CatalogFactory) -> Catalog:
    return await start_catalog(
        link_form="nginx",
        nginx_secret=SECRET,
        nginx_files_base_url=FILES_BASE,
        reissue_limit=1,
    )


async def test_api_answers_links_the_sample_nginx_location_serves(
    start_catalog: CatalogFactory,
) -> None:
    catalog = await nginx_catalog(start_catalog)
    nginx = SampleLocation(SAMPLE.read_text(), catalog.settings.media_root)
    video = (await catalog.load_demo())[0]
    rendition = video.rendition("720p25")
    assert rendition is not None
    user_id = await ready_user(catalog)

    issued = await catalog.client.post(link_path(video, "720p25"), headers=catalog.auth(user_id))
    assert issued.status_code == 201, issued.text
    body = issued.json()
    url = body["url"]
    parts = urlsplit(url)
    expires = int(parse_qs(parts.query)["expires"][0])
    assert url.startswith(f"{FILES_BASE}/files/{user_id}/{body['downloadId']}/")
    assert unquote(parts.path).endswith(rendition.storage_key)
    assert expires == int(catalog.clock().timestamp()) + catalog.settings.link_ttl_seconds
    assert "sig=" not in url and "kid=" not in url  # not the catalog's own form

    now = int(catalog.clock().timestamp())
    status, path = nginx.status_and_file(url, now)
    assert status == 200 and path is not None
    assert path.read_bytes() == demo_media_bytes(rendition.storage_key, rendition.file_size)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == rendition.sha256

    other_user = url.replace(f"/files/{user_id}/", f"/files/{uuid.uuid4()}/")
    assert nginx.status_and_file(other_user, now)[0] == 403
    longer = tampered(url, expires=str(expires + 86_400))
    assert nginx.status_and_file(longer, now)[0] == 403
    assert nginx.status_and_file(url, expires)[0] == 410

    # Authorised like any link: the audit record, listed as the user's download.
    mine = await catalog.client.get("/v1/me/downloads", headers=catalog.auth(user_id))
    assert [item["downloadId"] for item in mine.json()["items"]] == [body["downloadId"]]


async def test_nginx_links_can_be_reissued_without_the_catalog_seeing_bytes(
    start_catalog: CatalogFactory,
) -> None:
    catalog = await nginx_catalog(start_catalog)
    nginx = SampleLocation(SAMPLE.read_text(), catalog.settings.media_root)
    video = (await catalog.load_demo())[0]
    user_id = await ready_user(catalog)
    first = await catalog.client.post(link_path(video, "audio"), headers=catalog.auth(user_id))
    download_id = first.json()["downloadId"]

    catalog.clock.advance(minutes=16)  # the link expired while nginx was sending the file
    now = int(catalog.clock().timestamp())
    assert nginx.status_and_file(first.json()["url"], now)[0] == 410
    fresh = await catalog.client.post(
        f"/v1/downloads/{download_id}/reissue", headers=catalog.auth(user_id)
    )
    assert fresh.status_code == 201, fresh.text
    assert fresh.json()["downloadId"] == download_id
    assert nginx.status_and_file(fresh.json()["url"], now)[0] == 200
    capped = await catalog.client.post(
        f"/v1/downloads/{download_id}/reissue", headers=catalog.auth(user_id)
    )
    assert capped.status_code == 409 and capped.json()["code"] == "reissue_limit_reached"
