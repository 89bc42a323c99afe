"""Header values that cannot be abused: no line breaks, parsed addresses, stable ids.

A value that would need sanitising is refused rather than silently altered: every header value
comes from settings, an event or the sealed part, so a line break in one is a bug or an attack,
and an email with a quietly altered recipient is worse than none.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from email.errors import HeaderParseError
from email.headerregistry import Address, BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import EmailPolicy, Policy
from email.policy import default as default_policy
from typing import cast
from urllib.parse import quote

from notifier.domain.errors import RenderError

# Control characters, and the Unicode line and paragraph separators some mail software
# treats as line ends.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.IGNORECASE
)


def reject_line_breaks(value: str, *, what: str) -> str:
    """Return ``value`` unchanged, or raise RenderError if it holds CR, LF or a control char."""
    if not isinstance(value, str):
        raise RenderError(f"{what} must be text")
    if any(unicodedata.category(char) in _FORBIDDEN_CATEGORIES for char in value):
        raise RenderError(f"{what} contains a line break or control character")
    return value


def domain_part(domain: str) -> str:
    """Validate a host name such as the Message-ID domain."""
    reject_line_breaks(domain, what="domain")
    if not _HOSTNAME.match(domain):
        raise RenderError(f"{domain!r} is not a host name")
    return domain


def mailbox(addr_spec: str, *, display_name: str = "") -> Address:
    """Parse one address with the standard library's RFC 5322 parser; refuse anything else.

    Only a bare ``local@domain`` is accepted (no display name, comment or second address
    smuggled into ``addr_spec``); the display name is given apart and encoded by the
    ``email`` package when the header is written.
    """
    reject_line_breaks(addr_spec, what="address")
    reject_line_breaks(display_name, what="display name")
    try:
        address = Address(display_name=display_name, addr_spec=addr_spec)
    except (ValueError, IndexError, HeaderParseError) as exc:
        raise RenderError("address is not a valid mailbox") from exc
    if not (address.username and address.domain) or address.addr_spec != addr_spec:
        raise RenderError("address is not a valid mailbox")
    return address


def canonical_event_id(event_id: str) -> str:
    """The event id in canonical UUID form; CloudEvent ids are UUIDs, anything else is refused."""
    try:
        return str(uuid.UUID(event_id))
    except (ValueError, TypeError, AttributeError) as exc:
        raise RenderError("event id must be a UUID") from exc


def message_id(event_id: str, domain: str) -> str:
    """The Message-ID of the email for one event: the same on every resend.

    ``email.utils.make_msgid`` adds time and randomness, so a retried send would look like a
    new email; deriving the id from the event id lets receivers (and our SMTP relay)
    recognise a resend as a duplicate. The event id is a UUID, already public.
    """
    return f"<{canonical_event_id(event_id)}@{domain_part(domain)}>"


def unsubscribe_url(url_template: str, user_id: str, token: str | None = None) -> str | None:
    """Fill ``{user_id}`` and ``{token}``, percent-encoded so they cannot alter the URL.

    None when the template wants a token and the event brought none: a link that cannot
    work is worse than no link.
    """
    reject_line_breaks(user_id, what="user id")
    if "{token}" in url_template:
        if token is None:
            return None
        reject_line_breaks(token, what="unsubscribe token")
        url_template = url_template.replace("{token}", quote(token, safe=""))
    return url_template.replace("{user_id}", quote(user_id, safe=""))


def list_unsubscribe_headers(*, url: str | None, reply_to: Address) -> dict[str, str]:
    """RFC 2369 and RFC 8058 (one-click) unsubscribe headers for newsletter emails.

    The https URL must accept a POST with ``List-Unsubscribe=One-Click``; the mailto form is
    for clients without one-click support and goes to the Reply-To mailbox. Without a URL only
    the mailto form is offered (and no one-click header).
    """
    mailto = f"<mailto:{reply_to.addr_spec}?subject=unsubscribe>"
    if url is None:
        return {"List-Unsubscribe": mailto}
    return {
        "List-Unsubscribe": reject_line_breaks(f"<{url}>, {mailto}", what="List-Unsubscribe"),
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


class UrlListHeader(UnstructuredHeader):
    """``List-Unsubscribe``: a list of ``<URL>``s (RFC 2369) that must reach mail clients as
    typed. The standard folding turns a URL longer than a line into RFC 2047 encoded words,
    which clients do not decode there; this header folds only between its entries (a line
    may then pass 78 characters, well within the 998 allowed)."""

    # The registry mixes BaseHeader into every header class at run time (typeshed does not
    # model that), hence the casts.
    def fold(self, *, policy: Policy) -> str:
        entries = [entry.strip() for entry in str(self).split(">,")]
        value = ("," + policy.linesep + " ").join(
            entry if entry.endswith(">") else entry + ">" for entry in entries
        )
        return f"{cast(BaseHeader, self).name}: {value}{policy.linesep}"


_HEADERS = HeaderRegistry()
_HEADERS.map_to_type("list-unsubscribe", cast("type[BaseHeader]", UrlListHeader))
MESSAGE_POLICY: EmailPolicy[EmailMessage] = default_policy.clone(header_factory=_HEADERS)
"""The policy of every email built here; any generator policy then keeps the URLs intact."""
