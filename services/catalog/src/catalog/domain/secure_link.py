"""Links for nginx's ``secure_link`` module, when nginx serves the files itself.

nginx's documented form (ngx_http_secure_link_module)::

    secure_link $arg_md5,$arg_expires;
    secure_link_md5 "$secure_link_expires$uri secret";

checks ``md5`` = base64url without padding of the binary MD5 of
``"{expires}{uri} {secret}"`` (note the space before the secret, exactly as written in the
directive) and that ``expires`` (epoch seconds) is in the future. This mirrors
``echo -n '{expires}{uri} {secret}' | openssl md5 -binary | openssl base64 | tr +/ -_ | tr -d =``.

Binding to a user: the form signs only the URI and the expiry, so the user id goes into the
URI (``/files/{user_id}/{download_id}/{storage_key}``, see
deploy/nginx/secure_link.conf.example). MD5 is what nginx offers; the HMAC-SHA256 links of
``catalog.domain.links`` stay the primary form, this one is for offloading the bytes.
"""

from __future__ import annotations

import hashlib
from urllib.parse import quote, urlencode

from catalog.domain.links import b64url


def nginx_secure_link_md5(uri: str, expires: int, secret: str) -> str:
    """The ``md5`` query value nginx's ``secure_link`` expects for ``uri`` until ``expires``."""
    if not uri.startswith("/") or "?" in uri:
        raise ValueError("uri must be the path nginx sees as $uri, without a query")
    # MD5 is imposed by nginx's secure_link_md5; it is not our choice of hash.
    digest = hashlib.md5(f"{expires}{uri} {secret}".encode(), usedforsecurity=False).digest()
    return b64url(digest)


def nginx_secure_link_path(
    *, user_id: str, download_id: str, storage_key: str, prefix: str = "/files"
) -> str:
    """The decoded URI (nginx's ``$uri``) a secure link for one download points at."""
    return f"{prefix}/{user_id}/{download_id}/{storage_key}"


def nginx_secure_link_url(uri: str, expires: int, secret: str) -> str:
    """``uri`` percent-encoded for the request line, with ``md5`` and ``expires``.

    nginx compares against ``$uri``, the decoded path, so the signature is computed over the
    decoded ``uri`` while the URL carries it encoded.
    """
    query = urlencode({"md5": nginx_secure_link_md5(uri, expires, secret), "expires": expires})
    return f"{quote(uri)}?{query}"
