"""No mail bombing: limits on requests that send a code, none of which reveals an account.

Every limit here is keyed by something the caller chose (its client address, the target
address as typed and normalised), never by an account, so an address with an account and one
without get the same 429 at the same moment:

- per client address: ``requests_per_client`` code requests (register, resend, reset) per window;
- per target address and purpose: one request per ``resend_cooldown`` (the 60 s cooldown);
- per target address: ``code_emails_per_address`` code requests per window, all purposes.

The per-account limits of ``domain.codes`` stay as a backstop; when they refuse, the flow
silently sends nothing and answers as usual.
"""

from __future__ import annotations

from datetime import timedelta

from portal_shared.logging import audit, get_logger

from identity.domain.codes import CodePurpose
from identity.domain.errors import RateLimited
from identity.domain.throttling import Delayed, RateLimit
from identity.service_layer.context import Context

log = get_logger(__name__)

SCOPE_CLIENT_REQUESTS = "client_requests"
SCOPE_CODE_EMAILS = "code_emails"
SCOPE_CLIENT_CODE_CHECKS = "client_code_checks"


def cooldown_scope(purpose: CodePurpose) -> str:
    return f"code_cooldown:{purpose.value}"


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
    now = ctx.now()
    cooldown = ctx.code_settings.resend_cooldown
    limits = [(SCOPE_CODE_EMAILS, ctx.address_limit)]
    if cooldown > timedelta(0):
        limits.insert(0, (cooldown_scope(purpose), RateLimit(1, cooldown)))
    for scope, rate in limits:
        decision = await ctx.rate_limits.acquire(scope, key, rate, now)
        if isinstance(decision, Delayed):
            audit(
                log,
                action,
                outcome="refused",
                reason=f"{scope.partition(':')[0]}_limited",
                address_hash=key,
                client_ip=client_ip,
            )
            raise RateLimited(decision.retry_after)
