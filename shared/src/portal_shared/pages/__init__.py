"""The people's pages: server-rendered HTML that works with JavaScript off, shared by identity
(``/account``) and the catalog (``/videos``): language, CSRF, cookies, headers, templates.

Who is signed in, across two services. Identity keeps the access token in the cookie
``portal_access`` (``Path=/``, HttpOnly, Secure, SameSite=Lax, as long as the token lives) and
the refresh token in ``portal_refresh`` (``Path=/account``, SameSite=Strict: the catalog never
receives it). Browsers scope cookies by host, not by port, so on the local platform (identity
on 127.0.0.1:8001, the catalog on 127.0.0.1:8003) the catalog receives ``portal_access`` and
verifies it with identity's JWKS like a bearer token; in production both are one origin
behind the ingress's path routing (``/account`` to identity, ``/videos`` to the catalog),
configured with ``ACCOUNT_PAGES_URL`` and ``VIDEO_PAGES_URL`` left empty. When the access
cookie has expired the catalog sends the person to ``/account/sign-in?next=...``, which renews
the session from the refresh cookie without asking for the password again.

CSRF: double submit. ``portal_csrf`` (random, HttpOnly, SameSite=Strict, host-wide) is set
with the first page; every form carries the same value in a hidden field, and a POST whose
field differs, or whose ``Origin`` is not one of the pages' origins, is refused (403).

Language: ``?lang=en|fr`` (then remembered in ``portal_lang``), else that cookie, else the
browser's ``Accept-Language``, else English.

Headers: a strict Content-Security-Policy (nothing but this origin's own scripts, styles and
images; forms post only here or to the other service's pages), no framing, no sniffing, no
caching of personal pages.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined, select_autoescape

LANGUAGES = ("en", "fr")
DEFAULT_LANGUAGE = "en"
ACCESS_COOKIE = "portal_access"
REFRESH_COOKIE = "portal_refresh"
CSRF_COOKIE = "portal_csrf"
LANGUAGE_COOKIE = "portal_lang"
CSRF_FIELD = "csrf"
YEAR = 365 * 24 * 3600

Texts = Mapping[str, Mapping[str, str]]  # language -> key -> sentence


class CsrfRejected(Exception):
    """A form post without the matching CSRF token, or from a foreign origin."""


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def choose_language(request: Request) -> str:
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked
    kept = request.cookies.get(LANGUAGE_COOKIE)
    if kept in LANGUAGES:
        return kept
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return DEFAULT_LANGUAGE


def safe_next(value: str | None, allowed_origins: tuple[str, ...]) -> str | None:
    """``value`` if it is a path here or a URL on one of the pages' origins (no open redirect)."""
    if not value or len(value) > 2000 or "\\" in value or any(ord(c) < 32 for c in value):
        return None
    if value.startswith("/") and not value.startswith("//"):
        return value
    origin = origin_of(value)
    return value if origin and origin in allowed_origins else None


@dataclass
class Pages:
    """Templates, texts and cookie/CSRF rules of one service's pages."""

    service_package: str
    texts: Texts  # the service's own sentences; COMMON_TEXTS fill in the rest
    account_url: str  # "" = same origin
    video_url: str
    static_path: str  # where this service serves the shared stylesheet and scripts
    secure_cookies: bool = True
    env: Environment = field(init=False)

    def __post_init__(self) -> None:
        self.env = Environment(
            loader=ChoiceLoader(
                [
                    PackageLoader(self.service_package, "entrypoints/templates"),
                    PackageLoader("portal_shared.pages", "templates"),
                ]
            ),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
        )

    @property
    def origins(self) -> tuple[str, ...]:
        return tuple(o for o in (origin_of(self.account_url), origin_of(self.video_url)) if o)

    def csp(self) -> str:
        forms = " ".join(["'self'", *self.origins])
        return (
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
            f"form-action {forms}; frame-ancestors 'none'; base-uri 'none'"
        )

    # -- rendering -----------------------------------------------------------------------

    def render(
        self,
        request: Request,
        template: str,
        *,
        status: int = 200,
        signed_in: bool = False,
        **context: Any,
    ) -> HTMLResponse:
        language = choose_language(request)
        csrf = request.cookies.get(CSRF_COOKIE) or ""
        fresh_csrf = not _plausible_token(csrf)
        if fresh_csrf:
            csrf = secrets.token_urlsafe(32)
        words = {**COMMON_TEXTS[language], **self.texts[language]}

        def t(key: str, **values: Any) -> str:
            text = words.get(key, key)
            return text.format(**values) if values else text

        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        own = self.account_url if self.static_path.startswith("/account") else self.video_url
        context.setdefault("back", own + here)
        links = [(x, str(request.url.include_query_params(lang=x))) for x in LANGUAGES]

        html = self.env.get_template(template).render(
            t=t,
            lang=language,
            csrf=csrf,
            csrf_field=CSRF_FIELD,
            account_url=self.account_url,
            video_url=self.video_url,
            signed_in=signed_in,
            static_path=self.static_path,
            language_links=[(x, link) for x, link in links if x != language],
            **context,
        )
        response = HTMLResponse(html, status_code=status)
        self.secure(response)
        if fresh_csrf:
            self.set_cookie(response, CSRF_COOKIE, csrf, max_age=None, same_site="strict")
        if request.query_params.get("lang") in LANGUAGES:
            self.set_cookie(response, LANGUAGE_COOKIE, language, max_age=YEAR)
        return response

    def redirect(self, url: str) -> RedirectResponse:
        response = RedirectResponse(url, status_code=303)
        self.secure(response)
        return response

    def secure(self, response: Response) -> None:
        response.headers["Content-Security-Policy"] = self.csp()
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        # Not "same-origin": that makes a form post to the other service say `Origin: null`.
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        response.headers["Cache-Control"] = "no-store"

    # -- cookies -------------------------------------------------------------------------

    def set_cookie(
        self,
        response: Response,
        name: str,
        value: str,
        *,
        max_age: int | None,
        path: str = "/",
        same_site: str = "lax",
    ) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path=path,
            secure=self.secure_cookies,
            httponly=True,
            samesite=same_site,  # type: ignore[arg-type]
        )

    def set_session(
        self,
        response: Response,
        *,
        access_token: str,
        access_ttl: int,
        refresh_token: str,
        refresh_expires_at: datetime,
        now: datetime,
    ) -> None:
        self.set_cookie(response, ACCESS_COOKIE, access_token, max_age=access_ttl)
        refresh_ttl = max(1, int((refresh_expires_at - now).total_seconds()))
        self.set_cookie(
            response,
            REFRESH_COOKIE,
            refresh_token,
            max_age=refresh_ttl,
            path="/account",
            same_site="strict",
        )

    def clear_session(self, response: Response) -> None:
        for name, path in ((ACCESS_COOKIE, "/"), (REFRESH_COOKIE, "/account")):
            response.delete_cookie(
                name, path=path, secure=self.secure_cookies, httponly=True, samesite="lax"
            )

    # -- forms ---------------------------------------------------------------------------

    async def form(self, request: Request) -> dict[str, str]:
        """The posted form's text fields, after the CSRF and origin checks."""
        origin = request.headers.get("origin")
        own = origin_of(str(request.base_url))
        if origin is not None and origin not in {own, *self.origins}:
            raise CsrfRejected()
        data = await request.form()
        fields = {k: v for k, v in data.items() if isinstance(v, str)}
        cookie = request.cookies.get(CSRF_COOKIE, "")
        sent = fields.get(CSRF_FIELD, "")
        if not (_plausible_token(cookie) and hmac.compare_digest(cookie, sent)):
            raise CsrfRejected()
        return fields

    def next_url(self, value: str | None) -> str | None:
        return safe_next(value, self.origins)


COMMON_TEXTS: Texts = {
    "en": {
        "site_name": "NATO Multimedia",
        "skip_to_content": "Skip to content",
        "nav_label": "Main",
        "nav_videos": "Videos",
        "nav_account": "My account",
        "nav_downloads": "My downloads",
        "nav_sign_in": "Sign in",
        "nav_register": "Create an account",
        "nav_sign_out": "Sign out",
        "language_label": "Language",
        "language_name_en": "English",
        "language_name_fr": "Français",
        "footer": "Access NATO's broadcast-quality video content free of charge",
        "error_summary_title": "There is a problem",
        "error_prefix": "Error:",
        "csrf_rejected": "This form has expired. Please try again.",
        "page_not_found": "This page does not exist.",
    },
    "fr": {
        "site_name": "Multimédia OTAN",
        "skip_to_content": "Aller au contenu",
        "nav_label": "Menu principal",
        "nav_videos": "Vidéos",
        "nav_account": "Mon compte",
        "nav_downloads": "Mes téléchargements",
        "nav_sign_in": "Se connecter",
        "nav_register": "Créer un compte",
        "nav_sign_out": "Se déconnecter",
        "language_label": "Langue",
        "language_name_en": "English",
        "language_name_fr": "Français",
        "footer": "Accédez gratuitement aux vidéos de l'OTAN en qualité broadcast",
        "error_summary_title": "Un problème est survenu",
        "error_prefix": "Erreur :",
        "csrf_rejected": "Ce formulaire a expiré. Veuillez réessayer.",
        "page_not_found": "Cette page n'existe pas.",
    },
}


def _plausible_token(value: str) -> bool:
    return 30 <= len(value) <= 64 and all(c.isalnum() or c in "-_" for c in value)


def static_file(name: str) -> tuple[bytes, str] | None:
    """A shared stylesheet or script by name (no paths), with its media type."""
    kinds = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
    suffix = name[name.rfind(".") :] if "." in name else ""
    if suffix not in kinds or "/" in name or name.startswith("."):
        return None
    resource = resources.files("portal_shared.pages").joinpath("static", name)
    if not resource.is_file():
        return None
    return resource.read_bytes(), kinds[suffix]
