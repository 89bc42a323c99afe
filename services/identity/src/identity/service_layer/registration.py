"""Registering: accept an attempt, mail its code in the background, verify it.

Each ``POST /v1/registrations`` stores a registration attempt (see ``domain.registrations``)
and answers at once with its registration id. The route does the same work for every address,
whatever it holds (validate, limits keyed by what the caller chose, Argon2, one insert), and
reads nothing about the address: neither the answer nor its timing can tell addresses apart.

The state-dependent work happens afterwards in the registration worker
(``process_due_registrations``, run by the relay role), which looks at the address:

- no account: a code is issued for the attempt and mailed (``UserRegistered``; when other
  attempts for the address are still open, the email says truthfully that a new registration
  was started and what to do if it was not them);
- a verified account: the attempt gets a code that is never mailed and can never activate it,
  and the owner is told someone tried (``RegistrationAttemptedOnExistingAccount``);
- an account from before registration attempts existed that still waits for verification:
  treated as no account; the attempt that verifies replaces it.

Verifying takes the registration id and the code: only the code mailed for that attempt
activates it, with that attempt's password, language and newsletter choice; the other attempts
for the address die.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from portal_shared.logging import audit, get_logger
from portal_shared.tracing import continued_span, traceparent_of

from identity.adapters.accounts import EmailTaken, StoredAccount
from identity.domain.accounts import Account, Language, mark_verified, new_user_id
from identity.domain.codes import CodeIssued, CodeOutcome, CodePurpose, CodeThrottled, issue_code
from identity.domain.errors import CodeRejected, RegistrationNotFound
from identity.domain.passwords import check_password
from identity.domain.registrations import (
    Attempt,
    AttemptStatus,
    attempt_id_of,
    check_attempt_code,
    new_attempt,
    new_registration_id,
)
from identity.service_layer import events
from identity.service_layer.code_checks import FAILURE_SCOPE, audit_failure
from identity.service_layer.context import REGISTRATIONS, Context, StaleWrite, with_retries
from identity.service_layer.guards import limit_client, limit_code_checks, limit_code_emails
from identity.service_layer.sessions import Session, start_session

log = get_logger(__name__)

VERIFY = CodePurpose.VERIFY_EMAIL
WORKER_LEASE = timedelta(seconds=30)
ATTEMPT_RETENTION = timedelta(days=1)


@dataclass(frozen=True)
class Registration:
    registration_id: str
    email: str


async def register_account(
    ctx: Context,
    *,
    raw_email: str,
    password: str,
    language: Language,
    newsletter: bool,
    client_ip: str,
) -> Registration:
    """Store a new attempt; the same work and answer for every address."""
    await limit_client(ctx, client_ip, "registration")
    email = ctx.normalise(raw_email)
    check_password(password, email)
    await limit_code_emails(ctx, email, VERIFY, client_ip, "registration")
    password_hash = await ctx.hash_password(password)
    registration_id, attempt_id = new_registration_id()
    attempt = new_attempt(
        attempt_id=attempt_id,
        user_id=new_user_id(),
        email=email,
        password_hash=password_hash,
        language=language,
        newsletter=newsletter,
        now=ctx.now(),
        traceparent=traceparent_of(),
    )
    await ctx.registrations.insert(attempt)
    ctx.wake_worker(REGISTRATIONS)
    audit(
        log,
        "registration",
        outcome="accepted",
        address_hash=ctx.address_key(email),
        client_ip=client_ip,
    )
    return Registration(registration_id, email)


async def resend_verification_code(
    ctx: Context, registration_id: str, client_ip: str
) -> Registration:
    """A new code for this attempt (replacing its previous one), mailed if it can activate."""
    await limit_client(ctx, client_ip, "code_resend")
    attempt = await _attempt(ctx, registration_id)
    await limit_code_emails(ctx, attempt.email, VERIFY, client_ip, "code_resend")

    async def mark_due() -> None:
        loaded = await _attempt(ctx, registration_id)
        if not await ctx.registrations.save(_next(loaded, mail_due=True), loaded.version):
            raise StaleWrite()

    await with_retries(mark_due)
    ctx.wake_worker(REGISTRATIONS)
    audit(
        log,
        "code_resend",
        outcome="accepted",
        address_hash=ctx.address_key(attempt.email),
        client_ip=client_ip,
    )
    return Registration(registration_id, attempt.email)


async def verify_email(ctx: Context, registration_id: str, code: str, client_ip: str) -> Session:
    """Activate the account with this attempt's code and sign the user in."""
    await limit_code_checks(ctx, client_ip, "code_check")

    async def attempt() -> Account:
        loaded = await _attempt(ctx, registration_id)
        address_key = ctx.address_key(loaded.email)
        failures = await ctx.rate_limits.events(FAILURE_SCOPE[VERIFY], address_key)
        now, settings = ctx.now(), ctx.code_settings
        result = check_attempt_code(loaded, tuple(failures), code, now, ctx.code_key, settings)
        if result.outcome is CodeOutcome.OK:
            account = await _activate(ctx, loaded)
            if account is not None:
                return account
            result = check_attempt_code(
                replace(loaded, status=AttemptStatus.SUPERSEDED),
                tuple(failures),
                code,
                now,
                ctx.code_key,
                settings,
            )
        counted = len(result.state.recent_failures) > len(failures)
        stored_code = replace(result.state, recent_failures=())
        changed = stored_code != loaded.code
        if changed and not await ctx.registrations.save(
            _next(loaded, code=stored_code), loaded.version
        ):
            raise StaleWrite()
        if counted:
            await ctx.rate_limits.record(
                FAILURE_SCOPE[VERIFY], address_key, now, settings.account_failures.window
            )
        locked_now = counted and result.outcome is CodeOutcome.ACCOUNT_LOCKED
        audit_failure(VERIFY, result.outcome, client_ip, locked_now, address_hash=address_key)
        raise CodeRejected(result.outcome.value, result.retry_after)

    account = await with_retries(attempt)
    ctx.nudge()
    audit(log, "verification", outcome="success", user_id=account.user_id, client_ip=client_ip)
    return await start_session(ctx, account)


async def _activate(ctx: Context, attempt: Attempt) -> Account | None:
    """Create (or, for an old unverified account, take over) the account; None if the address
    was verified meanwhile, by another attempt or otherwise."""
    now = ctx.now()
    stored = await ctx.accounts.by_email(attempt.email)
    if stored is not None and stored.account.email_verified:
        return None
    if stored is None:
        account = mark_verified(
            Account(
                user_id=attempt.user_id,
                email=attempt.email,
                password_hash=attempt.password_hash,
                language=attempt.language,
                newsletter=attempt.newsletter,
                created_at=attempt.created_at,
            ),
            now,
        )
        try:
            await ctx.accounts.insert(StoredAccount(account), _activation_events(ctx, account))
        except EmailTaken:
            return None
    else:
        chosen = replace(
            stored.account,
            password_hash=attempt.password_hash,
            language=attempt.language,
            newsletter=attempt.newsletter,
        )
        account = replace(mark_verified(chosen, now), account_version=stored.version + 1)
        emitted = _activation_events(ctx, account)
        if not await ctx.accounts.save(StoredAccount(account), stored.version, emitted):
            raise StaleWrite()
    used = replace(attempt.code, used=True)
    verified = _next(attempt, code=used, status=AttemptStatus.VERIFIED, mail_due=False)
    await ctx.registrations.save(verified, attempt.version)
    await ctx.registrations.supersede_others(attempt.email, attempt.attempt_id)
    return account


def _activation_events(ctx: Context, account: Account) -> list:  # type: ignore[type-arg]
    emitted = [events.verified(ctx, account)]
    if account.newsletter:
        # The opt-in made with the attempt takes effect with the proven address.
        emitted.append(events.newsletter_changed(ctx, account))
    return emitted


async def process_due_registrations(ctx: Context) -> int:
    """The registration worker's step: handle every attempt waiting for it; returns how many."""
    handled = 0
    async for attempt in ctx.registrations.each_due(ctx.now, WORKER_LEASE):
        with continued_span("registration worker", attempt.traceparent):
            await _process(ctx, attempt)
        handled += 1
    if handled:
        ctx.nudge(ctx.registrations.collection.name)
    return handled


async def prune_registrations(ctx: Context) -> int:
    """Attempts past their retention go (the worker runs this now and then, not per step:
    the age filter is not answered from an index on FerretDB)."""
    return await ctx.registrations.delete_older_than(ctx.now() - ATTEMPT_RETENTION)


async def _process(ctx: Context, attempt: Attempt) -> None:
    now = ctx.now()
    issued = issue_code(attempt.code, now, ctx.code_settings, ctx.code_key)
    if isinstance(issued, CodeThrottled) and _deferrable(ctx, issued):
        # The API admitted this resend by the address's cooldown, taken when it was asked;
        # the code's own cooldown runs from when this worker sent the last code, a little
        # later. The email is due all the same (the page said "sent"): once that has run out,
        # not dropped.
        await ctx.registrations.defer(
            attempt.attempt_id, now + timedelta(seconds=issued.retry_after)
        )
        log.info("registration_processed", outcome="deferred", retry_after=issued.retry_after)
        return
    if not isinstance(issued, CodeIssued):
        outcome = "throttled"
        saved = await ctx.registrations.save(_next(attempt, mail_due=False), attempt.version)
    else:
        outcome, status, emitted = await _mail_for(ctx, attempt, issued)
        changed = _next(attempt, code=issued.state, status=status, mail_due=False)
        saved = await ctx.registrations.save(changed, attempt.version, emitted)
        if saved and emitted:
            audit(
                log,
                "code_sent",
                outcome="success",
                user_id=attempt.user_id,
                code_purpose=VERIFY.value,
                via="registration_worker",
            )
    if not saved:  # a resend or a verification changed it meanwhile: claim it again later
        await ctx.registrations.release(attempt.attempt_id)
    log.info("registration_processed", outcome=outcome)


def _deferrable(ctx: Context, throttled: CodeThrottled) -> bool:
    """A wait no longer than the resend cooldown: the API's and the code's cooldowns apart."""
    return throttled.retry_after <= ctx.code_settings.resend_cooldown.total_seconds()


async def _mail_for(
    ctx: Context, attempt: Attempt, issued: CodeIssued
) -> tuple[str, AttemptStatus, list]:  # type: ignore[type-arg]
    """What the address gets for this attempt's new code, and the attempt's next status."""
    assert issued.state.expires_at is not None
    if attempt.status not in (AttemptStatus.ACCEPTED, AttemptStatus.OPEN):
        return "code_not_mailed", attempt.status, []
    stored = await ctx.accounts.by_email(attempt.email)
    if stored is not None and stored.account.email_verified:
        if attempt.status is AttemptStatus.ACCEPTED:
            told = events.registration_attempted(ctx, stored.account)
            return "existing_account_notified", AttemptStatus.SILENT, [told]
        return "code_not_mailed", AttemptStatus.SILENT, []
    prospective = _prospective_account(attempt)
    if attempt.status is AttemptStatus.OPEN:
        event = events.code_reissued(ctx, prospective, VERIFY, issued.code, issued.state.expires_at)
        return "new_code_sent", AttemptStatus.OPEN, [event]
    others = await ctx.registrations.other_live(attempt.email, attempt.attempt_id, ctx.now())
    event = events.registered(
        ctx, prospective, issued.code, issued.state.expires_at, another_registration=others
    )
    return "code_sent", AttemptStatus.OPEN, [event]


def _prospective_account(attempt: Attempt) -> Account:
    return Account(
        user_id=attempt.user_id,
        email=attempt.email,
        password_hash=attempt.password_hash,
        language=attempt.language,
        newsletter=attempt.newsletter,
        created_at=attempt.created_at,
    )


async def _attempt(ctx: Context, registration_id: str) -> Attempt:
    attempt = await ctx.registrations.by_id(attempt_id_of(registration_id))
    if attempt is None:
        raise RegistrationNotFound()
    return attempt


def _next(attempt: Attempt, **changes: object) -> Attempt:
    return replace(attempt, version=attempt.version + 1, **changes)  # type: ignore[arg-type]
