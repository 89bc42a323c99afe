"""Links for nginx's ``secure_link`` module, when nginx serves the files itself.

nginx's documented form (ngx_http_secure_link_module)::

    secure_link $arg_md5,$arg_expires;
    secure_link_md5 "$secure_link_expires$uri secret";

checks ``md5`` = base64url without padding of the binary MD5 of
``"{expires}{uri} {secret}"`` (note the space before the secret, exactly as written in the
directive) and that ``expires`` (epoch seconds) is in the future; our links also sign the
file name they carry for ``Content-Disposition`` (``$secure_link_expires$uri$arg_name``).
This mirrors
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


def nginx_secure_link_md5(uri: str, expires: int, secret: str, name_arg: str = "") -> str:
    """The ``md5`` query value nginx's ``secure_link`` expects for ``uri`` until ``expires``
    (and, when the link names its file, for the ``name`` argument as sent: ``$arg_name``)."""
    if not uri.startswith("/") or "?" in uri:
        raise ValueError("uri must be the path nginx sees as $uri, without a query")
    # MD5 is imposed by nginx's secure_link_md5; it is not our choice of hash.
    text = f"{expires}{uri}{name_arg} {secret}"
    digest = hashlib.md5(text.encode(), usedforsecurity=False).digest()
    return b64url(digest)


def nginx_secure_link_path(
    *, user_id: str, download_id: str, storage_key: str, prefix: str = "/files"
) -> str:
    """The decoded URI (nginx's ``$uri``) a secure link for one download points at."""
    return f"{prefix}/{user_id}/{download_id}/{storage_key}"


def nginx_name_arg(file_name: str) -> str:
    """The file name as the ``name`` argument: RFC 5987 percent-encoding (only unreserved
    characters and ``%XX`` remain), so nginx can put ``$arg_name`` as it is into
    ``Content-Disposition: attachment; filename*=UTF-8''$arg_name``; it is signed, so a
    changed name is refused like a changed path."""
    return quote(file_name, safe="")


def nginx_secure_link_url(uri: str, expires: int, secret: str, file_name: str | None = None) -> str:
    """``uri`` percent-encoded for the request line, with ``md5``, ``expires`` and ``name``.

    nginx compares against ``$uri``, the decoded path, so the signature is computed over the
    decoded ``uri`` while the URL carries it encoded; ``$arg_name`` is not decoded by nginx,
    so it is signed as sent.
    """
    name_arg = nginx_name_arg(file_name) if file_name is not None else ""
    query = urlencode(
        {"md5": nginx_secure_link_md5(uri, expires, secret, name_arg), "expires": expires}
    )
    if file_name is not None:
        query += f"&name={name_arg}"
    return f"{quote(uri)}?{query}"
