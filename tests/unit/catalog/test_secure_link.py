from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
from catalog.domain.secure_link import (
    nginx_secure_link_md5,
    nginx_secure_link_path,
    nginx_secure_link_url,
)


def test_matches_the_nginx_documentation_recipe() -> None:
    # echo -n '2147483647/s/link127.0.0.1 secret' | openssl md5 -binary | openssl base64
    #   | tr +/ -_ | tr -d =   (nginx docs); here without $remote_addr, as configured.
    expires, uri, secret = 2147483647, "/s/link", "secret"
    raw = hashlib.md5(f"{expires}{uri} {secret}".encode()).digest()
    expected = base64.b64encode(raw).decode().replace("+", "-").replace("/", "_").rstrip("=")
    assert nginx_secure_link_md5(uri, expires, secret) == expected
    assert len(expected) == 22


def test_known_vector() -> None:
    # Independently: md5(b"1700000000/files/a/b/c.mp4 s3cr3t"), base64url without padding.
    digest = hashlib.md5(b"1700000000/files/a/b/c.mp4 s3cr3t").digest()
    token = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert nginx_secure_link_md5("/files/a/b/c.mp4", 1700000000, "s3cr3t") == token


def test_url_signs_the_decoded_path_and_carries_it_encoded() -> None:
    uri = nginx_secure_link_path(user_id="u1", download_id="d1", storage_key="demo/é x.mp4")
    assert uri == "/files/u1/d1/demo/é x.mp4"
    url = nginx_secure_link_url(uri, 1700000000, "s3cr3t")
    parts = urlsplit(url)
    assert parts.path == "/files/u1/d1/demo/%C3%A9%20x.mp4"
    query = dict(parse_qsl(parts.query))
    assert query == {
        "md5": nginx_secure_link_md5(uri, 1700000000, "s3cr3t"),
        "expires": "1700000000",
    }


@pytest.mark.parametrize("uri", ["files/x", "/files/x?y=1"])
def test_uri_must_be_a_path(uri: str) -> None:
    with pytest.raises(ValueError):
        nginx_secure_link_md5(uri, 1, "s")


def test_the_file_name_is_signed_and_sent_percent_encoded() -> None:
    uri = nginx_secure_link_path(user_id="a" * 32, download_id="d1", storage_key="demo/v.mp4")
    url = nginx_secure_link_url(uri, 1700000000, "s3cr3t", 'Sécurité "final".mp4')
    name = "S%C3%A9curit%C3%A9%20%22final%22.mp4"  # only unreserved characters and %XX
    assert url.endswith(f"&name={name}")
    signed = parse_qs(urlsplit(url).query)["md5"][0]
    assert signed == nginx_secure_link_md5(uri, 1700000000, "s3cr3t", name)
    assert signed != nginx_secure_link_md5(uri, 1700000000, "s3cr3t")
