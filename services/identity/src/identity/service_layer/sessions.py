"""Sign-in, refresh-token rotation, sign-out (one session or everywhere).

Sign-in failures slow down per canonical address and per client address (growing delay, then
a temporary lock); a refused attempt gets the same generic answer as a wrong password plus
``Retry-After``, and an address without an account is throttled exactly like one with an
account. Only after the password was right does an unverified account hear so.

A client presenting a valid device token for the account (``domain.device_tokens``) is under
its device's own throttle instead of the address's lock, so nobody can lock the owner out by
guessing from elsewhere; every successful sign-in hands out a fresh device token.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from portal_shared.logging import audit, get_logger

from identity.adapters.accounts import StoredAccount
from identity.domain.accounts import Account, rehash_password, sign_out_everywhere
from identity.domain.device_tokens import (
    DeviceToken,
    Presented,
    decide_device,
    issue_device_token,
    locks_out,
    parse_device_token,
    verify_device_token,
)
from identity.domain.errors import (
    AccountNotVerified,
    InvalidCredentials,
    RefreshRejected,
    SignInThrottled,
)
from identity.domain.opaque_tokens import (
    RefreshIssued,
    RefreshRejection,
    hash_token,
    redeem_refresh_token,
    start_refresh_family,
)
from identity.domain.throttling import Allowed, Decision, decide_sign_in, most_restrictive
from identity.domain.tokens import issue_access_token
from identity.service_layer import events
from identity.service_layer.context import Context, StaleWrite, next_version, with_retries

log = get_logger(__name__)

SCOPE_SIGN_IN_ADDRESS = "sign_in_address"
SCOPE_SIGN_IN_CLIENT = "sign_in_client"
SCOPE_SIGN_IN_DEVICE = "sign_in_device"
SCOPE_DEVICE_LOCKOUT = "device_lockout"


@dataclass(frozen=True)
class Session:
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime
    device_token: str | None = None  # only from a sign-in with the password


def _session(ctx: Context, account: Account, refresh: RefreshIssued) -> Session:
    access = issue_access_token(
        ctx.secrets.keys,
        user_id=account.user_id,
        email_verified=account.email_verified,
        roles=account.roles,
        token_version=account.token_version,
        now=ctx.now(),
        settings=ctx.access_settings,
    )
    return Session(access.token, access.expires_at, refresh.plaintext, refresh.token.expires_at)


async def start_session(ctx: Context, account: Account) -> Session:
    issued = start_refresh_family(
        account.user_id, account.token_version, ctx.now(), ctx.refresh_settings
    )
    await ctx.refresh.start(issued.family, issued.token)
    return _session(ctx, account, issued)


@dataclass(frozen=True)
class PasswordBudget:
    """Where password guesses for one address from one client stand (sign-in and the current
    password of a change share it). With a trusted device token, the device's own throttle
    takes the place of the address's."""

    address: tuple[str, str]  # (scope, key)
    client: tuple[str, str]
    address_failures: int
    decision: Decision
    device: tuple[str, str] | None = None  # (scope, key) of a trusted device's failures


async def password_budget(
    ctx: Context, email: str, client_ip: str, device: DeviceToken | None = None
) -> PasswordBudget:
    address = (SCOPE_SIGN_IN_ADDRESS, ctx.address_key(email))
    client = (SCOPE_SIGN_IN_CLIENT, ctx.client_key(client_ip))
    now = ctx.now()
    if device is None:
        address_failures, client_failures = await ctx.rate_limits.events_of([address, client])
        decision = most_restrictive(
            decide_sign_in(address_failures, now, ctx.address_sign_in),
            decide_sign_in(client_failures, now, ctx.client_sign_in),
        )
        return PasswordBudget(address, client, len(address_failures), decision)
    device_key = ctx.device_key_of(device.nonce)
    lockouts, client_failures = await ctx.rate_limits.events_of(
        [(SCOPE_DEVICE_LOCKOUT, device_key), client]
    )
    decision = most_restrictive(
        decide_device(lockouts, now, ctx.device_policy),
        decide_sign_in(client_failures, now, ctx.client_sign_in),
    )
    return PasswordBudget(address, client, 0, decision, (SCOPE_SIGN_IN_DEVICE, device_key))


def _trusted_device(
    ctx: Context, stored: StoredAccount | None, presented: list[Presented], address_key: str
) -> DeviceToken | None:
    """The first presented device token issued for this account (and still valid)."""
    if stored is None:
        return None
    account = stored.account
    for candidate in presented:
        token = verify_device_token(
            ctx.device_key,
            candidate,
            address_key=address_key,
            user_id=account.user_id,
            token_version=account.token_version,
            now=ctx.now(),
            settings=ctx.device_settings,
        )
        if token is not None:
            return token
    return None


async def sign_in(
    ctx: Context,
    raw_email: str,
    password: str,
    client_ip: str,
    device_tokens: Sequence[str | None] = (),
) -> Session:
    """Sign in; ``device_tokens``: what the client presented as its device token (cookie,
    header). A valid one for this account puts the attempt under the device's own throttle
    instead of the address's lock; the session carries a fresh device token either way."""
    email = ctx.normalise(raw_email)
    address_key = ctx.address_key(email)
    presented = [p for p in map(parse_device_token, device_tokens) if p is not None]
    # Only a value shaped like a device token costs an account look-up before the decision
    # (the answers stay the same whatever the address holds: a forged token is just ignored).
    early = await ctx.accounts.by_email(email) if presented else None
    device = _trusted_device(ctx, early, presented, address_key)
    budget = await password_budget(ctx, email, client_ip, device)
    decision = budget.decision
    via = {"via": "device"} if device else {}
    if not isinstance(decision, Allowed):
        audit(
            log,
            "sign_in",
            outcome="refused",
            reason="throttled",
            client_ip=client_ip,
            address_hash=address_key,
            retry_after=decision.retry_after,
            **via,
        )
        raise SignInThrottled(decision.retry_after)
    # Both look-ups for every address, and one Argon2 check against the account's hash, else
    # the newest open registration attempt's, else the dummy hash: the same work for all.
    if presented:
        stored, attempt = early, await ctx.registrations.newest_open(email)
    else:
        stored, attempt = await asyncio.gather(
            ctx.accounts.by_email(email), ctx.registrations.newest_open(email)
        )
    password_hash = stored.account.password_hash if stored else None
    if stored is None and attempt is not None:
        password_hash = attempt.password_hash
    if not await ctx.verify_password(password_hash, password):
        await record_failure(ctx, stored, budget, client_ip)
        raise InvalidCredentials()
    if stored is None:  # the right password of a registration still waiting for its code
        audit(
            log,
            "sign_in",
            outcome="failure",
            reason="not_verified",
            address_hash=address_key,
            client_ip=client_ip,
        )
        raise AccountNotVerified()
    account = stored.account
    # A trusted device's success leaves the address's failures alone: clearing them would
    # hand whoever keeps the address locked a fresh set of guesses.
    if budget.address_failures and device is None:
        await ctx.rate_limits.clear(*budget.address)
    if not account.email_verified:
        audit(
            log,
            "sign_in",
            outcome="failure",
            reason="not_verified",
            user_id=account.user_id,
            client_ip=client_ip,
        )
        raise AccountNotVerified()
    if ctx.hasher.needs_rehash(account.password_hash):
        account = await _rehash(ctx, stored, password)
    session = await start_session(ctx, account)
    audit(log, "sign_in", outcome="success", user_id=account.user_id, client_ip=client_ip, **via)
    device_token = issue_device_token(
        ctx.device_key,
        address_key=address_key,
        user_id=account.user_id,
        token_version=account.token_version,
        now=ctx.now(),
    )
    return replace(session, device_token=device_token)


async def record_failure(
    ctx: Context, stored: StoredAccount | None, budget: PasswordBudget, client_ip: str
) -> None:
    now = ctx.now()
    if budget.device is not None:
        first, window = budget.device, ctx.device_policy.window
    else:
        first, window = budget.address, ctx.address_sign_in.window
    first_count, client_count = await asyncio.gather(
        ctx.rate_limits.record(*first, now, window),
        ctx.rate_limits.record(*budget.client, now, ctx.client_sign_in.window),
    )
    who = {"user_id": stored.account.user_id} if stored else {"address_hash": budget.address[1]}
    reason = "wrong_password" if stored else "unknown_account"
    via = {"via": "device"} if budget.device else {}
    audit(log, "sign_in", outcome="failure", reason=reason, client_ip=client_ip, **who, **via)
    if budget.device is not None:
        if locks_out(first_count, ctx.device_policy):  # onto the lockout list
            await ctx.rate_limits.record(
                SCOPE_DEVICE_LOCKOUT, budget.device[1], now, ctx.device_policy.lock_duration
            )
            await ctx.rate_limits.clear(*budget.device)
            audit(log, "sign_in_lock", outcome="locked", scope="device", client_ip=client_ip, **who)
    # From ``lock_after`` on, every failure (one per lock period) starts a new lock.
    elif first_count >= ctx.address_sign_in.lock_after:
        audit(log, "sign_in_lock", outcome="locked", scope="address", client_ip=client_ip, **who)
    if client_count >= ctx.client_sign_in.lock_after:
        audit(log, "sign_in_lock", outcome="locked", scope="client", client_ip=client_ip)


async def _rehash(ctx: Context, stored: StoredAccount, password: str) -> Account:
    """Same password, current Argon2 parameters; losing a race just skips it this time."""
    new_hash = await ctx.hash_password(password)
    account = next_version(rehash_password(stored.account, new_hash), stored)
    if await ctx.accounts.save(stored.with_account(account), stored.version):
        log.info("password_rehashed", user_id=account.user_id)
        return account
    return stored.account


async def refresh(ctx: Context, presented: str, client_ip: str) -> Session:
    token = await ctx.refresh.token(hash_token(presented))
    family, stored = None, None
    if token is not None:
        family, stored = await asyncio.gather(
            ctx.refresh.family(token.family_id), ctx.accounts.by_id(token.user_id)
        )
    version = stored.account.token_version if stored else -1
    outcome = redeem_refresh_token(token, family, version, ctx.now(), ctx.refresh_settings)
    user_id = token.user_id if token else None
    if stored is not None and isinstance(outcome, RefreshIssued):
        assert outcome.rotated is not None
        if await ctx.refresh.rotate(outcome.rotated, outcome.token):
            audit(log, "refresh", outcome="success", user_id=user_id, client_ip=client_ip)
            return _session(ctx, stored.account, outcome)
        reason = RefreshRejection.REUSED  # another request rotated it first: a copy exists
    elif isinstance(outcome, RefreshIssued):
        reason = RefreshRejection.UNKNOWN  # the account is gone
    else:
        reason = outcome.reason
    if reason is RefreshRejection.REUSED or (
        not isinstance(outcome, RefreshIssued) and outcome.revoked_family is not None
    ):
        assert token is not None
        await ctx.refresh.revoke(token.family_id, ctx.now())
    audit(
        log, "refresh", outcome="failure", reason=reason.value, user_id=user_id, client_ip=client_ip
    )
    raise RefreshRejected(reason.value)


async def sign_out(ctx: Context, presented: str, client_ip: str) -> None:
    """End the session the refresh token belongs to; unknown tokens are ignored."""
    token = await ctx.refresh.token(hash_token(presented))
    if token is not None:
        await ctx.refresh.revoke(token.family_id, ctx.now())
    audit(
        log,
        "sign_out",
        outcome="success" if token else "ignored",
        user_id=token.user_id if token else None,
        client_ip=client_ip,
    )


async def sign_out_all(ctx: Context, user_id: str, client_ip: str) -> None:
    """Every session ends: refresh families die and access tokens fail identity's tv check."""

    async def attempt() -> None:
        stored = await ctx.accounts.by_id(user_id)
        if stored is None:
            return
        account = next_version(sign_out_everywhere(stored.account), stored)
        event = events.sessions_revoked(ctx, account, "sign_out_everywhere")
        if not await ctx.accounts.save(stored.with_account(account), stored.version, [event]):
            raise StaleWrite()

    await with_retries(attempt)
    ctx.nudge()
    await ctx.refresh.revoke_all(user_id, ctx.now())
    audit(log, "sign_out_everywhere", outcome="success", user_id=user_id, client_ip=client_ip)
