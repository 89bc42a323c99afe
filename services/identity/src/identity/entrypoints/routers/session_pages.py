"""/account/sign-in, /account/sign-out and the password reset pages: the email, the code,
"Create a new password", "Your password has been updated" with the way back."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from portal_shared.pages import LANGUAGE_COOKIE, REFRESH_COOKIE, YEAR

from identity.domain.errors import AccountNotVerified, DomainError, InvalidEmail, ResetTokenRejected
from identity.entrypoints.deps import DEVICE_COOKIE, ClientIp, ContextDep
from identity.entrypoints.page_support import (
    CodeFlow,
    end_flow,
    flow_of,
    form_of,
    keep_session,
    next_of,
    pages_of,
    render,
    sentence,
    set_flow,
    signed_in,
)
from identity.service_layer import password_reset, sessions

router = APIRouter(prefix="/account", include_in_schema=False)


@router.get("/sign-in")
async def sign_in_page(request: Request, ctx: ContextDep, client_ip: ClientIp) -> Response:
    target = next_of(ctx, request.query_params.get("next"))
    stored, renewed = await signed_in(request, ctx, client_ip)
    if stored is not None:  # still (or again, from the refresh cookie) signed in
        response = pages_of(ctx).redirect(target)
        keep_session(ctx, response, renewed)
        return response
    return render(
        request,
        ctx,
        "sign_in.html",
        title_key="sign_in_title",
        next=target,
        email="",
        signed_out="signed_out" in request.query_params,
        unverified=False,
        pending=False,
    )


@router.post("/sign-in")
async def sign_in(request: Request, ctx: ContextDep, client_ip: ClientIp) -> Response:
    form = await form_of(request, ctx)
    if isinstance(form, Response):
        return form
    target = next_of(ctx, form.get("next"))
    email, password = form.get("email", "").strip(), form.get("password", "")
    errors: dict[str, str] = {}
    unverified = False
    try:
        if not email:
            raise InvalidEmail()
        device = request.cookies.get(DEVICE_COOKIE)
        session = await sessions.sign_in(ctx, email, password, client_ip, [device])
    except InvalidEmail as exc:
        errors["email"] = sentence(request, ctx, exc)
    except AccountNotVerified as exc:
        errors["_form"] = sentence(request, ctx, exc)
        unverified = True
    except DomainError as exc:
        errors["password"] = sentence(request, ctx, exc)
    if errors:
        return render(
            request,
            ctx,
            "sign_in.html",
            status=400,
            title_key="sign_in_title",
            next=target,
            email=email,
            errors=errors,
            signed_out=False,
            unverified=unverified,
            pending=flow_of(request, "verify") is not None,
        )
    response = pages_of(ctx).redirect(target)
    keep_session(ctx, response, session)
    if session.device_token:  # back to this form's post only
        pages_of(ctx).set_cookie(
            response,
            DEVICE_COOKIE,
            session.device_token,
            max_age=ctx.settings.device_token_ttl_seconds,
            path="/account/sign-in",
            same_site="strict",
        )
    if LANGUAGE_COOKIE not in request.cookies:
        stored = await ctx.accounts.by_email(ctx.normalise(email))
        if stored is not None:
            pages_of(ctx).set_cookie(
                response, LANGUAGE_COOKIE, stored.account.language, max_age=YEAR
            )
    return response


@router.post("/sign-out")
async def sign_out(request: Request, ctx: ContextDep, client_ip: ClientIp) -> Response:
    form = await form_of(request, ctx)
    if isinstance(form, Response):
        return form
    presented = request.cookies.get(REFRESH_COOKIE)
    if presented:
        await sessions.sign_out(ctx, presented, client_ip)
    response = pages_of(ctx).redirect("/account/sign-in?signed_out=1")
    pages_of(ctx).clear_session(response)
    return response


# -- reset ---------------------------------------------------------------------------------


@router.get("/reset")
async def reset_page(request: Request, ctx: ContextDep) -> Response:
    target = next_of(ctx, request.query_params.get("next"))
    return render(request, ctx, "reset.html", title_key="reset_title", next=target, email="")


@router.post("/reset")
async def reset(request: Request, ctx: ContextDep, client_ip: ClientIp) -> Response:
    form = await form_of(request, ctx)
    if isinstance(form, Response):
        return form
    target = next_of(ctx, form.get("next"))
    email = form.get("email", "").strip()
    try:
        if not email:
            raise InvalidEmail()
        requested = await password_reset.request_reset(ctx, email, client_ip)
    except DomainError as exc:
        return render(
            request,
            ctx,
            "reset.html",
            status=400,
            title_key="reset_title",
            next=target,
            email=email,
            errors={"email": sentence(request, ctx, exc)},
        )
    response = pages_of(ctx).redirect("/account/reset/code")
    flow = {"kind": "reset", "email": requested.email, "reset_id": requested.reset_id}
    set_flow(ctx, response, {**flow, "next": target, "sent_at": ctx.now().timestamp()})
    return response


RESET = CodeFlow(
    kind="reset",
    attempt_key="reset_id",
    title_key="reset_title",
    body_key="reset_code_body",
    action="/account/reset/code",
    restart="/account/reset",
)


@router.get("/reset/code")
async def reset_code_page(request: Request, ctx: ContextDep) -> Response:
    return RESET.show(request, ctx)


@router.post("/reset/code")
async def reset_code(request: Request, ctx: ContextDep, client_ip: ClientIp) -> Response:
    async def check(reset_id: str, code: str) -> password_reset.IssuedResetToken:
        return await password_reset.verify_reset_code(ctx, reset_id, code, client_ip)

    done = await RESET.submit_code(request, ctx, check)
    if isinstance(done, Response):
        return done
    flow, issued = done
    response = pages_of(ctx).redirect("/account/reset/password")
    set_flow(ctx, response, {**flow, "reset_token": issued.token})
    return response


@router.post("/reset/code/resend")
async def reset_code_resend(request: Request, ctx: ContextDep, client_ip: ClientIp) -> Response:
    async def send(flow: dict[str, Any]) -> password_reset.ResetRequest:
        return await password_reset.request_reset(ctx, str(flow["email"]), client_ip)

    done = await RESET.resend(request, ctx, send)
    if isinstance(done, Response):
        return done
    flow, requested = done
    response = pages_of(ctx).redirect("/account/reset/code?resent=1")
    renewed = {**flow, "reset_id": requested.reset_id, "sent_at": ctx.now().timestamp()}
    set_flow(ctx, response, renewed)
    return response


@router.get("/reset/password")
async def new_password_page(request: Request, ctx: ContextDep) -> Response:
    flow = RESET.current(request)
    if flow is None or "reset_token" not in flow:
        return RESET.missing(request, ctx)
    return render(request, ctx, "new_password.html", title_key="new_password_title")


@router.post("/reset/password")
async def new_password(request: Request, ctx: ContextDep, client_ip: ClientIp) -> Response:
    posted = await RESET.posted(request, ctx)
    if isinstance(posted, Response):
        return posted
    form, flow = posted
    if "reset_token" not in flow:
        return RESET.missing(request, ctx)
    try:
        await password_reset.complete_reset(
            ctx, str(flow["reset_token"]), form.get("password", ""), client_ip
        )
    except ResetTokenRejected:
        response = RESET.missing(request, ctx)
        end_flow(ctx, response)
        return response
    except DomainError as exc:
        return render(
            request,
            ctx,
            "new_password.html",
            status=400,
            title_key="new_password_title",
            errors={"password": sentence(request, ctx, exc)},
        )
    response = pages_of(ctx).redirect(f"/account/reset/done?next={quote(str(flow['next']))}")
    end_flow(ctx, response)
    pages_of(ctx).clear_session(response)  # every session ended with the reset
    return response


@router.get("/reset/done")
async def reset_done(request: Request, ctx: ContextDep) -> Response:
    target = next_of(ctx, request.query_params.get("next"))
    return render(request, ctx, "reset_done.html", title_key="reset_done_title", next=target)
