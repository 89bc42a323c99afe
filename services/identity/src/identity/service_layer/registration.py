"""Creating an account, sending a new verification code, verifying the address.

No account enumeration: registering an address answers the same whatever it holds, after the
same Argon2 work, and the address's owner learns what happened by email:

- no account: the account is created with a code (``UserRegistered``);
- a verified account: nothing changes, the owner is told someone tried to register with it
  (``RegistrationAttemptedOnExistingAccount``);
- an account still waiting for verification: "the last registration wins": its password,
  language and newsletter choice become the new ones and a new code replaces the old one
  (``VerificationCodeReissued``). Keeping the first registration instead would let anyone
  pre-register someone else's address with a password of their own, which the owner would
  then activate by entering the code.

A lost race on the unique address index becomes the "existing account" case.
"""

from __future__ import annotations

from dataclasses import replace

from portal_shared.logging import audit, get_logger

from identity.adapters.accounts import EmailTaken, StoredAccount
from identity.domain.accounts import Language, mark_verified, new_user_id, register
from identity.domain.codes import CodeIssued, CodePurpose, CodeState, issue_code
from identity.domain.passwords import check_password
from identity.service_layer import events
from identity.service_layer.code_checks import accept_code
from identity.service_layer.context import Context, StaleWrite, next_version, with_retries
from identity.service_layer.guards import limit_client, limit_code_emails
from identity.service_layer.sessions import Session, start_session

log = get_logger(__name__)

VERIFY = CodePurpose.VERIFY_EMAIL


async def register_account(
    ctx: Context,
    *,
    raw_email: str,
    password: str,
    language: Language,
    newsletter: bool,
    client_ip: str,
) -> str:
    """Returns the canonical address; the answer is the same for every outcome."""
    await limit_client(ctx, client_ip, "registration")
    email = ctx.normalise(raw_email)
    check_password(password, email)
    await limit_code_emails(ctx, email, VERIFY, client_ip, "registration")
    password_hash = await ctx.hash_password(password)

    async def attempt() -> str:
        stored = await ctx.accounts.by_email(email)
        if stored is None:
            return await _create(ctx, email, password_hash, language, newsletter, client_ip)
        if stored.account.email_verified:
            return await _tell_owner(ctx, stored)
        return await _restart(ctx, stored, password_hash, language, newsletter, client_ip)

    outcome = await with_retries(attempt)
    ctx.nudge()
    audit(log, "registration", outcome=outcome, address_hash=ctx.address_key(email),
          client_ip=client_ip)  # fmt: skip
    return email


async def _create(
    ctx: Context,
    email: str,
    password_hash: str,
    language: Language,
    newsletter: bool,
    client_ip: str,
) -> str:
    now = ctx.now()
    account = register(
        user_id=new_user_id(),
        email=email,
        password_hash=password_hash,
        language=language,
        newsletter=newsletter,
        now=now,
    )
    issued = issue_code(CodeState(account.user_id, VERIFY), now, ctx.code_settings, ctx.code_key)
    assert isinstance(issued, CodeIssued)  # a fresh state is never throttled
    assert issued.state.expires_at is not None
    event = events.registered(ctx, account, issued.code, issued.state.expires_at)
    try:
        await ctx.accounts.insert(StoredAccount(account, {VERIFY: issued.state}), [event])
    except EmailTaken:
        raise StaleWrite() from None
    _audit_code_sent(account.user_id, VERIFY, client_ip)
    return "created"


async def _tell_owner(ctx: Context, stored: StoredAccount) -> str:
    account = next_version(stored.account, stored)
    event = events.registration_attempted(ctx, account)
    if not await ctx.accounts.save(stored.with_account(account), stored.version, [event]):
        raise StaleWrite()
    return "existing_account_notified"


async def _restart(
    ctx: Context,
    stored: StoredAccount,
    password_hash: str,
    language: Language,
    newsletter: bool,
    client_ip: str,
) -> str:
    issued = issue_code(stored.code(VERIFY), ctx.now(), ctx.code_settings, ctx.code_key)
    if not isinstance(issued, CodeIssued):
        return "pending_account_throttled"
    changed = replace(
        stored.account, password_hash=password_hash, language=language, newsletter=newsletter
    )
    account = next_version(changed, stored)
    assert issued.state.expires_at is not None
    event = events.code_reissued(ctx, account, VERIFY, issued.code, issued.state.expires_at)
    updated = StoredAccount(account, {**stored.codes, VERIFY: issued.state})
    if not await ctx.accounts.save(updated, stored.version, [event]):
        raise StaleWrite()
    _audit_code_sent(account.user_id, VERIFY, client_ip)
    return "pending_account_restarted"


async def resend_verification_code(ctx: Context, raw_email: str, client_ip: str) -> str:
    """A new code for an account waiting for verification; silently nothing otherwise."""
    await limit_client(ctx, client_ip, "code_resend")
    email = ctx.normalise(raw_email)
    await limit_code_emails(ctx, email, VERIFY, client_ip, "code_resend")

    async def attempt() -> str:
        stored = await ctx.accounts.by_email(email)
        if stored is None or stored.account.email_verified:
            return "no_pending_account"
        issued = issue_code(stored.code(VERIFY), ctx.now(), ctx.code_settings, ctx.code_key)
        if not isinstance(issued, CodeIssued):
            return "account_throttled"
        account = next_version(stored.account, stored)
        assert issued.state.expires_at is not None
        event = events.code_reissued(ctx, account, VERIFY, issued.code, issued.state.expires_at)
        updated = StoredAccount(account, {**stored.codes, VERIFY: issued.state})
        if not await ctx.accounts.save(updated, stored.version, [event]):
            raise StaleWrite()
        _audit_code_sent(account.user_id, VERIFY, client_ip)
        return "sent"

    outcome = await with_retries(attempt)
    ctx.nudge()
    audit(log, "code_resend", outcome=outcome, address_hash=ctx.address_key(email),
          client_ip=client_ip)  # fmt: skip
    return email


async def verify_email(ctx: Context, raw_email: str, code: str, client_ip: str) -> Session:
    """Activate the account with the code from its email and sign the user in."""
    email = ctx.normalise(raw_email)

    async def attempt() -> StoredAccount:
        accepted = await accept_code(
            ctx, email, VERIFY, code, client_ip, eligible=lambda a: not a.email_verified
        )
        loaded = accepted.stored
        account = next_version(mark_verified(loaded.account, ctx.now()), loaded)
        updated = accepted.with_code(account)
        emitted = [events.verified(ctx, account)]
        if account.newsletter:
            # The opt-in made at registration takes effect with the proven address; the last
            # registration may have changed it, so UserRegistered alone is not the answer.
            emitted.append(events.newsletter_changed(ctx, account))
        if not await ctx.accounts.save(updated, loaded.version, emitted):
            raise StaleWrite()
        return updated

    stored = await with_retries(attempt)
    ctx.nudge()
    audit(log, "verification", outcome="success", user_id=stored.account.user_id,
          client_ip=client_ip)  # fmt: skip
    return await start_session(ctx, stored.account)


def _audit_code_sent(user_id: str, purpose: CodePurpose, client_ip: str) -> None:
    audit(log, "code_sent", outcome="success", user_id=user_id, code_purpose=purpose.value,
          client_ip=client_ip)  # fmt: skip
