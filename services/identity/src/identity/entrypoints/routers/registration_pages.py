"""/account/register, /account/verify (with "Send new code" and its cooldown) and
/account/welcome ("You have successfully created your account", with the newsletter offer)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from portal_shared.pages import choose_language

from identity.domain.accounts import Language
from identity.domain.errors import DomainError, InvalidEmail, PasswordRejected
from identity.entrypoints.deps import ClientIp, ContextDep
from identity.entrypoints.page_support import (
    RULES,
    CodeFlow,
    end_flow,
    form_of,
    keep_session,
    next_of,
    pages_of,
    render,
    sentence,
    set_flow,
    signed_in,
)
from identity.service_layer import registration
from identity.service_layer.sessions import Session

router = APIRouter(prefix="/account", include_in_schema=False)


def _register_page(
    request: Request,
    ctx: ContextDep,
    *,
    target: str,
    values: dict[str, str],
    status: int = 200,
    errors: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        ctx,
        "register.html",
        status=status,
        title_key="register_title",
        next=target,
        values=values,
        rules=RULES,
        errors=errors or {},
    )


@router.get("/register")
async def register_page(request: Request, ctx: ContextDep) -> Response:
    target = next_of(ctx, request.query_params.get("next"))
    values = {"email": "", "language": choose_language(request), "newsletter": ""}
    return _register_page(request, ctx, target=target, values=values)


@router.post("/register")
async def register(request: Request, ctx: ContextDep, client_ip: ClientIp) -> Response:
    form = await form_of(request, ctx)
    if isinstance(form, Response):
        return form
    target = next_of(ctx, form.get("next"))
    language: Language = "fr" if form.get("language") == "fr" else "en"
    values = {
        "email": form.get("email", "").strip(),
        "language": language,
        "newsletter": "yes" if form.get("newsletter") == "yes" else "",
    }
    errors: dict[str, str] = {}
    try:
        if not values["email"]:
            raise InvalidEmail()
        registered = await registration.register_account(
            ctx,
            raw_email=values["email"],
            password=form.get("password", ""),
            language=language,
            newsletter=bool(values["newsletter"]),
            client_ip=client_ip,
        )
    except InvalidEmail as exc:
        errors["email"] = sentence(request, ctx, exc)
    except PasswordRejected as exc:
        errors["password"] = sentence(request, ctx, exc)
    except DomainError as exc:
        errors["_form"] = sentence(request, ctx, exc)
    if errors:
        return _register_page(request, ctx, target=target, values=values, status=400, errors=errors)
    response = pages_of(ctx).redirect("/account/verify")
    set_flow(
        ctx,
        response,
        {
            "kind": "verify",
            "registration_id": registered.registration_id,
            "email": registered.email,
            "next": target,
            "sent_at": ctx.now().timestamp(),
        },
    )
    return response


VERIFY = CodeFlow(
    kind="verify",
    attempt_key="registration_id",
    title_key="register_title",
    body_key="verify_body",
    action="/account/verify",
    restart="/account/register",
)


@router.get("/verify")
async def verify_page(request: Request, ctx: ContextDep) -> Response:
    return VERIFY.show(request, ctx)


@router.post("/verify")
async def verify(request: Request, ctx: ContextDep, client_ip: ClientIp) -> Response:
    async def check(registration_id: str, code: str) -> Session:
        return await registration.verify_email(ctx, registration_id, code, client_ip)

    done = await VERIFY.submit_code(request, ctx, check)
    if isinstance(done, Response):
        return done
    flow, session = done
    response = pages_of(ctx).redirect(f"/account/welcome?next={quote(str(flow['next']))}")
    end_flow(ctx, response)
    keep_session(ctx, response, session)
    return response


@router.post("/verify/resend")
async def verify_resend(request: Request, ctx: ContextDep, client_ip: ClientIp) -> Response:
    async def send(flow: dict[str, Any]) -> None:
        await registration.resend_verification_code(ctx, VERIFY.attempt(flow), client_ip)

    done = await VERIFY.resend(request, ctx, send)
    if isinstance(done, Response):
        return done
    flow, _ = done
    response = pages_of(ctx).redirect("/account/verify?resent=1")
    set_flow(ctx, response, {**flow, "sent_at": ctx.now().timestamp()})
    return response


@router.get("/welcome")
async def welcome(request: Request, ctx: ContextDep, client_ip: ClientIp) -> Response:
    target = next_of(ctx, request.query_params.get("next"))
    stored, renewed = await signed_in(request, ctx, client_ip)
    if stored is None:
        return pages_of(ctx).redirect(f"/account/sign-in?next={quote(target)}")
    response = render(
        request,
        ctx,
        "welcome.html",
        title_key="welcome_title",
        next=target,
        account=stored.account,
        signed_in=True,
        subscribed=request.query_params.get("newsletter") == "on",
    )
    keep_session(ctx, response, renewed)
    return response
