"""Email addresses: validate and bring to the one canonical form used for storage and look-up.

Decision: the whole address is lower-cased, local part included. RFC 5321 lets a server treat
local parts case-sensitively, but no mainstream provider does, and two accounts for
"Ann@x.org" and "ann@x.org" would be a trap (and a way to probe for accounts). Mail is sent to
the canonical form as well. No "+tag" or dot folding: those are provider-specific.

A local part (before the @) beyond ASCII needs SMTPUTF8 end to end, which the portal's mail path
does not offer: such an address is refused (``email_not_supported``, 422) instead of accepted
and never mailed. Internationalised domains are fine (sent in their IDNA form).

Syntax only (``check_deliverability=False``): no DNS at sign-up, the verification code mail
proves the address works.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from identity.domain.errors import EmailNotSupported, InvalidEmail


def normalise_email(raw: str, *, allow_test_domains: bool = False) -> str:
    """The canonical form of ``raw`` (NFC, IDNA domain as Unicode, all lower case).

    Raises ``InvalidEmail`` (code ``invalid_email``) for anything that is not an address.
    ``allow_test_domains`` accepts special-use domains such as ``.test`` (tests and dev only).
    """
    try:
        validated = validate_email(
            raw.strip(),
            check_deliverability=False,
            test_environment=allow_test_domains,
        )
    except EmailNotValidError as exc:
        raise InvalidEmail(str(exc)) from None
    if not validated.local_part.isascii():
        # Our mail path does not speak SMTPUTF8: such a mailbox would never get its code.
        raise EmailNotSupported("non-ASCII local part")
    return validated.normalized.lower()
