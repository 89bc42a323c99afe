"""What the account pages share: the ``Pages`` of identity, errors as sentences, the signed-in
account from the cookies, and the flow cookie. Cookies, CSRF, languages: ``portal_shared.pages``.

A registration or reset under way is kept in ``portal_flow`` (HttpOnly, SameSite=Strict,
``Path=/account``, one hour): its address, where the person came from, when the last code was
sent and, for a reset, the reset token once the code was accepted.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from portal_shared.pages import (
    ACCESS_COOKIE,
    REFRESH_COOKIE,
    CsrfRejected,
    Pages,
    choose_language,
)

from identity.adapters.accounts import StoredAccount
from identity.domain.errors import (
    CodeRejected,
    DomainError,
    NotAuthenticated,
    PasswordRejected,
    RateLimited,
    RefreshRejected,
    SignInThrottled,
)
from identity.entrypoints.texts import TEXTS
from identity.service_layer import profile, sessions
from identity.service_layer.context import Context

T = TypeVar("T")
FLOW_COOKIE = "portal_flow"
FLOW_SECONDS = 3600
RULES = (
    "too_short",
    "contains_space",
    "missing_uppercase",
    "missing_lowercase",
    "missing_digit",
    "missing_symbol",
)


def pages_of(ctx: Context) -> Pages:
    pages: Pages | None = getattr(ctx, "_pages", None)
    if pages is None:
        s = ctx.settings
        pages = Pages("identity", TEXTS, s.account_pages_url, s.video_pages_url, "/account/static")
        ctx._pages = pages  # type: ignore[attr-defined]
    return pages


# -- errors as sentences -------------------------------------------------------------------


def error_key(exc: DomainError) -> tuple[str, dict[str, Any]]:
    """The text key (and its values) that tells the person what went wrong."""
    if isinstance(exc, SignInThrottled):
        return "error_sign_in_throttled", {"seconds": exc.retry_after}
    if isinstance(exc, RateLimited):
        return "error_rate_limited", {"seconds": exc.retry_after}
    if isinstance(exc, CodeRejected):
        return f"error_code_{exc.reason}", {"seconds": exc.retry_after or 0}
    return f"error_{exc.code}", {}


def sentence(request: Request, ctx: Context, exc: DomainError) -> str:
    key, values = error_key(exc)
    texts = TEXTS[_language(request)]
    if isinstance(exc, PasswordRejected):
        rules = ", ".join(texts.get(f"rule_{v}", v) for v in exc.violations)
        return f"{texts['password_rejected_prefix']} {rules}."
    return texts.get(key, texts["error_identity_error"]).format(**values)


def _language(request: Request) -> str:
    return choose_language(request)


# -- who is signed in ----------------------------------------------------------------------


async def signed_in(
    request: Request, ctx: Context, client_ip: str
) -> tuple[StoredAccount | None, sessions.Session | None]:
    """The signed-in account, renewing an expired access cookie from the refresh cookie."""
    token = request.cookies.get(ACCESS_COOKIE)
    if token:
        try:
            return await profile.authenticate(ctx, token), None
        except NotAuthenticated:
            pass
    presented = request.cookies.get(REFRESH_COOKIE)
    if not presented:
        return None, None
    try:
        renewed = await sessions.refresh(ctx, presented, client_ip)
        return await profile.authenticate(ctx, renewed.access_token), renewed
    except (RefreshRejected, NotAuthenticated):
        return None, None


def keep_session(ctx: Context, response: Response, session: sessions.Session | None) -> None:
    if session is not None:
        pages_of(ctx).set_session(
            response,
            access_token=session.access_token,
            access_ttl=ctx.settings.access_token_ttl_seconds,
            refresh_token=session.refresh_token,
            refresh_expires_at=session.refresh_expires_at,
            now=ctx.now(),
        )


# -- the flow cookie -----------------------------------------------------------------------


def flow_of(request: Request, kind: str) -> dict[str, Any] | None:
    raw = request.cookies.get(FLOW_COOKIE)
    if not raw:
        return None
    try:
        flow = json.loads(base64.urlsafe_b64decode(raw.encode()))
    except ValueError:
        return None
    return flow if isinstance(flow, dict) and flow.get("kind") == kind else None


def set_flow(ctx: Context, response: Response, flow: dict[str, Any]) -> None:
    value = base64.urlsafe_b64encode(json.dumps(flow).encode()).decode()
    pages_of(ctx).set_cookie(
        response, FLOW_COOKIE, value, max_age=FLOW_SECONDS, path="/account", same_site="strict"
    )


def end_flow(ctx: Context, response: Response) -> None:
    response.delete_cookie(FLOW_COOKIE, path="/account", secure=True, httponly=True)


def cooldown(ctx: Context, flow: dict[str, Any]) -> int:
    waited = ctx.now().timestamp() - float(flow.get("sent_at", 0))
    return max(0, int(ctx.settings.resend_cooldown_seconds - waited))


def next_of(ctx: Context, value: str | None) -> str:
    return pages_of(ctx).next_url(value) or f"{ctx.settings.video_pages_url}/videos"


def code_minutes(ctx: Context) -> int:
    return max(1, ctx.settings.code_ttl_seconds // 60)


def render(
    request: Request, ctx: Context, template: str, *, status: int = 200, **context: Any
) -> HTMLResponse:
    context.setdefault("errors", {})
    return pages_of(ctx).render(request, template, status=status, **context)


async def form_of(request: Request, ctx: Context) -> dict[str, str] | HTMLResponse:
    try:
        return await pages_of(ctx).form(request)
    except CsrfRejected:
        return render(
            request,
            ctx,
            "message.html",
            status=403,
            title_key="csrf_rejected",
            body_key=None,
            link=request.url.path,
        )


# -- the code step of a flow (verify a registration, a reset's code) -----------------------


@dataclass(frozen=True)
class CodeFlow:
    """The page asking for an emailed code, with "Send new code" at ``<action>/resend``, of
    one kind of flow whose cookie names its attempt by ``attempt_key``; without such a flow
    the person is sent back to ``restart``."""

    kind: str
    attempt_key: str
    title_key: str
    body_key: str
    action: str
    restart: str

    def current(self, request: Request) -> dict[str, Any] | None:
        flow = flow_of(request, self.kind)
        return flow if flow is not None and flow.get(self.attempt_key) else None

    def show(self, request: Request, ctx: Context) -> Response:
        """The code page of the flow under way, else the way back to its start."""
        flow = self.current(request)
        return self.page(request, ctx, flow) if flow else self.missing(request, ctx)

    def attempt(self, flow: dict[str, Any]) -> str:
        return str(flow[self.attempt_key])

    async def posted(
        self, request: Request, ctx: Context
    ) -> tuple[dict[str, str], dict[str, Any]] | Response:
        """The posted form and the flow, or the page to answer instead (CSRF, no flow)."""
        form = await form_of(request, ctx)
        if isinstance(form, Response):
            return form
        flow = self.current(request)
        return (form, flow) if flow is not None else self.missing(request, ctx)

    async def submit_code(
        self, request: Request, ctx: Context, check: Callable[[str, str], Awaitable[T]]
    ) -> tuple[dict[str, Any], T] | Response:
        """``check(attempt, code)`` on the posted code; its domain error shown on the page."""

        async def run(form: dict[str, str], flow: dict[str, Any]) -> T:
            return await check(self.attempt(flow), form.get("code", "").strip())

        return await self._run(request, ctx, run, status=400, field="code")

    async def resend(
        self, request: Request, ctx: Context, send: Callable[[dict[str, Any]], Awaitable[T]]
    ) -> tuple[dict[str, Any], T] | Response:
        """``send(flow)`` for "Send new code"; its domain error (a limit) shown on the page."""

        async def run(_: dict[str, str], flow: dict[str, Any]) -> T:
            return await send(flow)

        return await self._run(request, ctx, run, status=429, field="_form")

    async def _run(
        self,
        request: Request,
        ctx: Context,
        step: Callable[[dict[str, str], dict[str, Any]], Awaitable[T]],
        *,
        status: int,
        field: str,
    ) -> tuple[dict[str, Any], T] | Response:
        posted = await self.posted(request, ctx)
        if isinstance(posted, Response):
            return posted
        form, flow = posted
        try:
            return flow, await step(form, flow)
        except DomainError as exc:
            errors = {field: sentence(request, ctx, exc)}
            return self.page(request, ctx, flow, status=status, errors=errors)

    def missing(self, request: Request, ctx: Context) -> Response:
        return render(
            request,
            ctx,
            "message.html",
            status=400,
            title_key=self.title_key,
            body_key="flow_missing",
            link=self.restart,
        )

    def page(
        self,
        request: Request,
        ctx: Context,
        flow: dict[str, Any],
        *,
        status: int = 200,
        errors: dict[str, str] | None = None,
    ) -> Response:
        return render(
            request,
            ctx,
            "code.html",
            status=status,
            title_key="verify_title",
            body_key=self.body_key,
            minutes=code_minutes(ctx),
            action=self.action,
            resend_action=f"{self.action}/resend",
            wait=cooldown(ctx, flow),
            resent="resent" in request.query_params,
            errors=errors or {},
        )
