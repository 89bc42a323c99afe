"""No mail bombing: limits on requests that send a code, none of which reveals an account.

Every limit here is keyed by something the caller chose (its client address, the target
address as typed and normalised), never by an account, so an address with an account and one
without get the same 429 at the same moment:

- per client address: ``requests_per_client`` code requests (register, resend, reset) per window;
- per target address and purpose: one request per ``resend_cooldown`` (the 60 s cooldown);
- per target address: ``code_emails_per_address`` code requests per window, all purposes.

The client's limit is taken first, so a client refused spends nothing of an address's. The
address's two are windows of one document, taken in one atomic write (both or neither; the
cooldown answers first when both are full). Before session 3 they were two documents taken
one after the other, and a request the quota refused had spent its cooldown slot.

The per-account limits of ``domain.codes`` stay as a backstop; when they refuse, the flow
silently sends nothing and answers as usual.
"""

from __future__ import annotations

from datetime import timedelta

from portal_shared.logging import audit, get_logger

from identity.adapters.rate_limits import EVENTS, Full
from identity.domain.codes import CodePurpose
from identity.domain.errors import RateLimited
from identity.domain.throttling import Delayed, RateLimit
from identity.service_layer.context import Context

log = get_logger(__name__)

SCOPE_CLIENT_REQUESTS = "client_requests"
SCOPE_CODE_EMAILS = "code_emails"
SCOPE_CLIENT_CODE_CHECKS = "client_code_checks"


def cooldown_window(purpose: CodePurpose) -> str:
    """The cooldown's window in the address's ``code_emails`` document (a field name)."""
    return f"cooldown_{purpose.value}"


async def limit_client(ctx: Context, client_ip: str, action: str) -> None:
    decision = await ctx.rate_limits.acquire(
        SCOPE_CLIENT_REQUESTS, ctx.client_key(client_ip), ctx.client_limit, ctx.now()
    )
    if isinstance(decision, Delayed):
        audit(log, action, outcome="refused", reason="client_rate_limited", client_ip=client_ip)
        raise RateLimited(decision.retry_after)


async def limit_code_checks(ctx: Context, client_ip: str, action: str) -> None:
    """The verify routes' per-client limit: one client cannot guess codes of many addresses."""
    decision = await ctx.rate_limits.acquire(
        SCOPE_CLIENT_CODE_CHECKS, ctx.client_key(client_ip), ctx.client_code_checks, ctx.now()
    )
    if isinstance(decision, Delayed):
        audit(log, action, outcome="refused", reason="client_rate_limited", client_ip=client_ip)
        raise RateLimited(decision.retry_after)


async def limit_code_emails(
    ctx: Context, email: str, purpose: CodePurpose, client_ip: str, action: str
) -> None:
    key = ctx.address_key(email)
    cooldown = ctx.code_settings.resend_cooldown
    windows = [(EVENTS, ctx.address_limit)]  # the quota: the document's own events
    if cooldown > timedelta(0):
        windows.insert(0, (cooldown_window(purpose), RateLimit(1, cooldown)))
    decision = await ctx.rate_limits.acquire_all(SCOPE_CODE_EMAILS, key, windows, ctx.now())
    if isinstance(decision, Full):
        reason = "code_emails_limited" if decision.window == EVENTS else "code_cooldown_limited"
        audit(
            log,
            action,
            outcome="refused",
            reason=reason,
            address_hash=key,
            client_ip=client_ip,
        )
        raise RateLimited(decision.delay.retry_after)
