"""Who the emails come from and where their links point: built from the service settings."""

from __future__ import annotations

from dataclasses import dataclass

from notifier.domain.headers import domain_part, mailbox, reject_line_breaks


@dataclass(frozen=True, slots=True)
class MailIdentity:
    """Sender identity and site links shared by every email.

    ``unsubscribe_url_template`` is an https URL with ``{user_id}`` and ``{token}``
    placeholders, for example
    ``https://multimedia.example.org/newsletter/unsubscribe?user={user_id}&token={token}``;
    a POST to it must reach identity's ``POST /v1/newsletter/unsubscribe`` (RFC 8058).
    Construction validates every field, so a bad setting fails at start-up, not per email.
    """

    from_address: str
    from_name: str
    reply_to: str
    message_id_domain: str
    site_url: str
    unsubscribe_url_template: str

    def __post_init__(self) -> None:
        for name in ("from_name", "site_url", "unsubscribe_url_template"):
            reject_line_breaks(getattr(self, name), what=name)
        mailbox(self.from_address, display_name=self.from_name)
        mailbox(self.reply_to)
        domain_part(self.message_id_domain)
        for name in ("site_url", "unsubscribe_url_template"):
            if not getattr(self, name).startswith("https://"):
                raise ValueError(f"{name} must be an https URL")
        for placeholder in ("{user_id}", "{token}"):
            if placeholder not in self.unsubscribe_url_template:
                raise ValueError(f"unsubscribe_url_template must contain {placeholder}")
