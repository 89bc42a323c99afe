"""/account: the account itself (my account, newsletter, deletion) and the shared static
files; sign-in, reset and registration pages are in their own routers."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from portal_shared.pages import static_file

from identity.entrypoints.deps import ClientIp, ContextDep
from identity.entrypoints.page_support import (
    form_of,
    keep_session,
    next_of,
    pages_of,
    render,
    signed_in,
)
from identity.service_layer import profile

router = APIRouter(prefix="/account", include_in_schema=False)


# -- static --------------------------------------------------------------------------------


@router.get("/static/{name}")
async def static(name: str) -> Response:
    found = static_file(name)
    if found is None:
        return Response(status_code=404)
    body, media_type = found
    return Response(body, media_type=media_type, headers={"Cache-Control": "max-age=3600"})


# -- my account ----------------------------------------------------------------------------


@router.get("")
async def account_home(request: Request, ctx: ContextDep, client_ip: ClientIp) -> Response:
    stored, renewed = await signed_in(request, ctx, client_ip)
    if stored is None:
        return pages_of(ctx).redirect("/account/sign-in?next=/account")
    response = render(
        request,
        ctx,
        "account.html",
        title_key="my_account_title",
        account=stored.account,
        signed_in=True,
    )
    keep_session(ctx, response, renewed)
    return response


@router.post("/newsletter")
async def newsletter(request: Request, ctx: ContextDep, client_ip: ClientIp) -> Response:
    form = await form_of(request, ctx)
    if isinstance(form, Response):
        return form
    stored, renewed = await signed_in(request, ctx, client_ip)
    if stored is None:
        return pages_of(ctx).redirect("/account/sign-in?next=/account")
    subscribe = form.get("subscribe") == "yes"
    await profile.update_newsletter(ctx, stored.account.user_id, subscribe, client_ip)
    state = "on" if subscribe else "off"
    if form.get("back") == "/account/welcome":
        target = next_of(ctx, form.get("next"))
        response = pages_of(ctx).redirect(
            f"/account/welcome?newsletter={state}&next={quote(target)}"
        )
    else:
        response = pages_of(ctx).redirect(f"/account?newsletter={state}")
    keep_session(ctx, response, renewed)
    return response


@router.get("/delete")
async def delete_page(request: Request, ctx: ContextDep, client_ip: ClientIp) -> Response:
    stored, renewed = await signed_in(request, ctx, client_ip)
    if stored is None:
        return pages_of(ctx).redirect("/account/sign-in?next=/account/delete")
    response = render(request, ctx, "delete.html", title_key="delete_title", signed_in=True)
    keep_session(ctx, response, renewed)
    return response


@router.post("/delete")
async def delete_account(request: Request, ctx: ContextDep, client_ip: ClientIp) -> Response:
    form = await form_of(request, ctx)
    if isinstance(form, Response):
        return form
    stored, _ = await signed_in(request, ctx, client_ip)
    if stored is None:
        return pages_of(ctx).redirect("/account/sign-in?next=/account/delete")
    await profile.delete_account(ctx, stored.account.user_id, client_ip)
    response = pages_of(ctx).redirect("/account/deleted")
    pages_of(ctx).clear_session(response)
    return response


@router.get("/deleted")
async def deleted(request: Request, ctx: ContextDep) -> Response:
    return render(
        request, ctx, "message.html", title_key="deleted_title", body_key="deleted_body", link=None
    )
