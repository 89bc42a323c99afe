"""Finding 5: nobody can keep the owner locked out (OWASP device cookies).

Before: one wrong guess every 15 minutes, from any client, kept the account locked for
everyone, its owner included. Now a client that signed in before holds a device token
(cookie ``portal_device``, or the ``Device-Token`` header for API clients) and is held only by
its own throttle; clients without a valid one for that account stay under the address's lock.

The service runs in-process on the real database and broker with its manual clock: the lock
windows pass by ``clock.advance``, never by sleeping. Every probe comes from a client address
of its own, as an attacker rotating addresses would send it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from http.cookies import SimpleCookie
from typing import Any

import httpx

from tests.integration.identity.conftest import OTHER_PASSWORD, PASSWORD, Harness, bearer

OWNER = "owner@example.org"
OWNER_IP = "192.0.2.10"
_fresh_clients = (f"198.51.{n // 250}.{n % 250 + 1}" for n in itertools.count())


def fresh_client(identity: Harness) -> httpx.AsyncClient:
    """A client address never seen before (the attacker's next proxy)."""
    return identity.client_from(next(_fresh_clients))


async def sign_in(
    identity: Harness,
    password: str,
    *,
    email: str = OWNER,
    cookie: str | None = None,
    header: str | None = None,
    ip: str | None = None,
) -> httpx.Response:
    """One sign-in as a client would send it: the device token as its cookie or header."""
    headers = {}
    if cookie is not None:
        headers["Cookie"] = f"portal_device={cookie}"
    if header is not None:
        headers["Device-Token"] = header
    client = identity.client_from(ip) if ip else fresh_client(identity)
    async with client:
        body = {"email": email, "password": password}
        return await client.post("/v1/sessions", json=body, headers=headers)


def device_cookie(response: httpx.Response) -> tuple[str, dict[str, str]]:
    """The device token of a ``Set-Cookie: portal_device=...`` and the cookie's attributes."""
    for header in response.headers.get_list("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        if "portal_device" in jar:
            morsel = jar["portal_device"]
            flags = {k: str(v) for k, v in morsel.items() if v}
            return morsel.value, flags
    raise AssertionError(f"no device cookie in {response.headers.get_list('set-cookie')}")


async def owner_device(identity: Harness) -> str:
    """The owner signs in from their own client and keeps its device cookie."""
    response = await sign_in(identity, PASSWORD, ip=OWNER_IP)
    assert response.status_code == 200, response.text
    return device_cookie(response)[0]


async def lock_the_address(identity: Harness, email: str = OWNER) -> None:
    """Ten wrong guesses from ten fresh clients (waiting out the growing delays)."""
    for _ in range(identity.settings.sign_in_lock_after):
        identity.clock.advance(seconds=30)
        assert (await sign_in(identity, OTHER_PASSWORD, email=email)).status_code == 401
    assert await is_locked_for_unknown_clients(identity, email)


async def is_locked_for_unknown_clients(identity: Harness, email: str = OWNER) -> bool:
    """The owner's right password from a client without a device token is refused."""
    response = await sign_in(identity, PASSWORD, email=email)
    if response.status_code == 200:
        return False
    assert response.status_code == 401 and response.json()["code"] == "invalid_credentials"
    assert "retry-after" in response.headers, response.headers
    return True


def refused_as_locked(response: httpx.Response) -> bool:
    return response.status_code == 401 and "retry-after" in response.headers


async def test_the_owner_with_a_device_cookie_signs_in_while_an_attacker_keeps_it_locked(
    identity: Harness,
) -> None:
    await identity.registered_and_verified(OWNER)
    cookie = await owner_device(identity)
    await lock_the_address(identity)
    # Attacker: one wrong guess per lock period from a fresh client, for two hours.
    for _ in range(8):
        identity.clock.advance(seconds=identity.settings.sign_in_lock_seconds)
        guess = await sign_in(identity, OTHER_PASSWORD)
        assert guess.status_code == 401 and "retry-after" not in guess.headers  # a real try
        # The owner on a new laptop (no device token): still locked out, as before.
        assert await is_locked_for_unknown_clients(identity)
        # The owner's own browser, with its device cookie: in, and a fresh cookie.
        owner = await sign_in(identity, PASSWORD, cookie=cookie, ip=OWNER_IP)
        assert owner.status_code == 200, owner.headers
        assert (await identity.client.get("/v1/me", headers=bearer(owner.json()))).is_success
        renewed, _ = device_cookie(owner)
        assert renewed != cookie
        cookie = renewed
        # The owner's success handed the attacker no fresh guesses.
        assert await is_locked_for_unknown_clients(identity)
    lines = [line for line in identity.audit_lines("sign_in") if line.get("via") == "device"]
    assert lines and {line["outcome"] for line in lines} == {"success"}


async def test_the_device_cookie_is_http_only_strict_and_scoped_to_sign_in(
    identity: Harness,
) -> None:
    await identity.registered_and_verified(OWNER)
    response = await sign_in(identity, PASSWORD, ip=OWNER_IP)
    token, flags = device_cookie(response)
    assert flags["path"] == "/v1/sessions" and flags["samesite"].lower() == "strict"
    assert flags["httponly"] and flags["secure"]
    assert int(flags["max-age"]) == identity.settings.device_token_ttl_seconds
    assert response.headers["device-token"] == token  # the same token for API clients
    assert OWNER not in token and "owner" not in token
    # Stored: only keyed hashes name the device, never the token or its nonce.
    await lock_the_address(identity)
    locked = await sign_in(identity, OTHER_PASSWORD, cookie=token)
    assert locked.status_code == 401
    documents = await identity.db["rate_limits"].find({}).to_list()
    stored = repr(documents)
    assert token not in stored and token.split(".")[2] not in stored
    assert any(doc["scope"] == "sign_in_device" for doc in documents)


async def test_an_api_client_sends_its_device_token_in_a_header(identity: Harness) -> None:
    await identity.registered_and_verified(OWNER)
    first = await sign_in(identity, PASSWORD, ip=OWNER_IP)
    token = first.headers["device-token"]
    await lock_the_address(identity)
    again = await sign_in(identity, PASSWORD, header=token, ip=OWNER_IP)
    assert again.status_code == 200
    assert again.headers["device-token"] != token


async def test_the_sign_in_page_sets_and_honours_its_own_device_cookie(identity: Harness) -> None:
    await identity.registered_and_verified(OWNER)

    async def page_sign_in(password: str, device: str | None) -> httpx.Response:
        async with identity.client_from(OWNER_IP) as browser:
            page = await browser.get("/account/sign-in")
            csrf = page.cookies["portal_csrf"]
            cookies = f"portal_csrf={csrf}" + (f"; portal_device={device}" if device else "")
            form = {"csrf": csrf, "email": OWNER, "password": password, "next": "/account"}
            return await browser.post("/account/sign-in", data=form, headers={"Cookie": cookies})

    first = await page_sign_in(PASSWORD, None)
    assert first.status_code == 303, first.text
    token, flags = device_cookie(first)
    assert flags["path"] == "/account/sign-in" and flags["samesite"].lower() == "strict"
    assert flags["httponly"] and flags["secure"]
    await lock_the_address(identity)
    assert (await page_sign_in(PASSWORD, None)).status_code == 400  # the lock, as before
    assert (await page_sign_in(PASSWORD, token)).status_code == 303


async def test_forged_foreign_and_revoked_device_tokens_give_no_way_past_the_lock(
    identity: Harness,
) -> None:
    await identity.registered_and_verified(OWNER)
    other = await identity.registered_and_verified("other@example.org")
    cookie = await owner_device(identity)
    stolen = cookie  # a copy taken from the owner's browser
    foreign = device_cookie(await sign_in(identity, PASSWORD, email="other@example.org"))[0]
    version, issued, nonce, mac = cookie.split(".")
    forged = [
        f"{version}.{issued}.{'A' * 22}.{mac}",  # another nonce under the owner's mac
        f"{version}.{int(issued) + 86400}.{nonce}.{mac}",  # a later issue time
        f"{version}.{issued}.{nonce}.{'A' * 43}",  # a made-up mac
        "d1.1.AAAAAAAAAAAAAAAAAAAAAA." + "A" * 43,
        "not-a-device-token",
        "x" * 5000,
    ]
    await lock_the_address(identity)
    for value in [foreign, *forged]:
        for kind in ("cookie", "header"):
            response = await sign_in(identity, PASSWORD, **{kind: value})
            assert refused_as_locked(response), (value[:40], kind)
    # The other account's own device token still works for the other account.
    assert (await sign_in(identity, PASSWORD, email="other@example.org", cookie=foreign)).is_success
    # The owner notices and signs out everywhere (from the device that still works):
    assert (await sign_in(identity, PASSWORD, cookie=cookie, ip=OWNER_IP)).status_code == 200
    tokens = (await sign_in(identity, PASSWORD, cookie=cookie, ip=OWNER_IP)).json()
    ended = await identity.client.post("/v1/sessions/sign-out-everywhere", headers=bearer(tokens))
    assert ended.status_code == 204
    # ...and every device token issued before that, the stolen copy too, is worthless now.
    assert refused_as_locked(await sign_in(identity, PASSWORD, cookie=stolen))
    assert refused_as_locked(await sign_in(identity, PASSWORD, cookie=cookie, ip=OWNER_IP))
    assert other  # the other account was not touched


async def test_an_expired_device_token_gives_no_way_past_the_lock(
    identity_service: Callable[..., Any],
) -> None:
    async with identity_service(device_token_ttl_seconds=86400) as identity:
        await identity.registered_and_verified(OWNER)
        cookie = await owner_device(identity)
        await lock_the_address(identity)
        assert (await sign_in(identity, PASSWORD, cookie=cookie, ip=OWNER_IP)).is_success
        identity.clock.advance(days=1)
        await lock_the_address(identity)
        assert refused_as_locked(await sign_in(identity, PASSWORD, cookie=cookie, ip=OWNER_IP))


async def test_a_device_is_locked_out_after_its_own_failures(
    identity_service: Callable[..., Any],
) -> None:
    async with identity_service(device_sign_in_failures=3, device_lock_seconds=3600) as identity:
        await identity.registered_and_verified(OWNER)
        stolen = await owner_device(identity)
        laptop = await owner_device(identity)
        # Someone with a copy of one device cookie guesses, from changing addresses.
        answers = [await sign_in(identity, OTHER_PASSWORD, cookie=stolen) for _ in range(3)]
        assert [a.status_code for a in answers] == [401] * 3
        assert not any("retry-after" in a.headers for a in answers)
        locked = await sign_in(identity, PASSWORD, cookie=stolen)  # even the right password
        assert refused_as_locked(locked) and int(locked.headers["retry-after"]) == 3600
        assert locked.json() == answers[0].json()  # the same generic answer
        assert [line["scope"] for line in identity.audit_lines("sign_in_lock")] == ["device"]
        # Its guesses counted against that device only: the owner's other device, and
        # clients without one, are not held by them.
        assert (await sign_in(identity, PASSWORD, cookie=laptop, ip=OWNER_IP)).is_success
        assert not await is_locked_for_unknown_clients(identity)
        identity.clock.advance(seconds=3599)
        assert refused_as_locked(await sign_in(identity, PASSWORD, cookie=stolen))
        identity.clock.advance(seconds=1)
        assert (await sign_in(identity, PASSWORD, cookie=stolen)).is_success


async def test_device_tokens_tell_nothing_about_an_address(identity: Harness) -> None:
    """With any device token (forged, or valid for another account) an address with an
    account and one without meet the same answers for the same guesses."""
    await identity.registered_and_verified(OWNER)
    foreign = await owner_device(identity)  # valid, but for the owner only
    forged = "d1.1.AAAAAAAAAAAAAAAAAAAAAA." + "A" * 43
    sequences = {}
    for email in ("target@example.org", "absent@example.org"):
        if email == "target@example.org":
            await identity.registered_and_verified(email)
        answers = []
        for i in range(12):
            identity.clock.advance(seconds=30)
            token = foreign if i % 2 else forged
            response = await sign_in(identity, OTHER_PASSWORD, email=email, cookie=token)
            answers.append(
                (response.status_code, response.json(), response.headers.get("retry-after"))
            )
        assert all("portal_device" not in h for h in response.headers.get_list("set-cookie"))
        sequences[email] = answers
    assert sequences["target@example.org"] == sequences["absent@example.org"]
    assert sequences["absent@example.org"][-1][2] is not None  # both locked by then
