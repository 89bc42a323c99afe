"""Newsletter unsubscribe links that work without signing in (RFC 8058 one-click).

The token is a keyed hash of the user id: identity can check it without storing anything,
nobody without the key can make one for another user, and it keeps working for as long as
the account exists (a link in an old newsletter must still unsubscribe). It travels to the
notifier only inside the sealed part of ``NewsletterSubscribed``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

_PURPOSE = b"newsletter-unsubscribe\x00"


def unsubscribe_token(key: bytes, user_id: str) -> str:
    digest = hmac.new(key, _PURPOSE + user_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def is_valid_unsubscribe_token(key: bytes, user_id: str, presented: str) -> bool:
    return hmac.compare_digest(unsubscribe_token(key, user_id).encode(), presented.encode())
