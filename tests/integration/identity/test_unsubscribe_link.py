"""The one-click unsubscribe link of newsletter emails (RFC 8058), on the real broker and db."""

from __future__ import annotations

from tests.integration.identity.conftest import Harness, bearer

EMAIL = "reader@example.org"
PATH = "/v1/newsletter/unsubscribe"


async def test_the_link_from_the_sealed_part_unsubscribes_once_without_signing_in(
    identity: Harness,
) -> None:
    tokens = await identity.registered_and_verified(EMAIL)
    await identity.client.put("/v1/me/newsletter", headers=bearer(tokens))
    subscribed = await identity.event("NewsletterSubscribed")
    assert subscribed.sealed is not None
    user_id, token = subscribed.sealed["user_id"], subscribed.sealed["unsubscribe_token"]
    assert token not in subscribed.body.decode()  # only inside the sealed part

    # What a mail client sends for List-Unsubscribe-Post: a form body, no credentials.
    clicked = await identity.client.post(
        PATH,
        params={"user": user_id, "token": token},
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert clicked.status_code == 200 and clicked.json() == {"status": "unsubscribed"}
    me = await identity.client.get("/v1/me", headers=bearer(tokens))
    assert me.json()["newsletter"] is False
    unsubscribed = await identity.event("NewsletterUnsubscribed")
    assert unsubscribed.data["user_id"] == user_id

    again = await identity.client.post(PATH, params={"user": user_id, "token": token})
    assert again.status_code == 200  # idempotent: no second event
    await identity.outbox_settled()
    assert len(identity.events_named("NewsletterUnsubscribed")) == 1
    [line] = [a for a in identity.audit_lines("newsletter") if a.get("via") == "link"]
    assert line["user_id"] == user_id and token not in identity.logs.getvalue()


async def test_a_forged_or_malformed_link_changes_nothing(identity: Harness) -> None:
    tokens = await identity.registered_and_verified(EMAIL)
    await identity.client.put("/v1/me/newsletter", headers=bearer(tokens))
    subscribed = await identity.event("NewsletterSubscribed")
    assert subscribed.sealed is not None
    user_id, token = subscribed.sealed["user_id"], subscribed.sealed["unsubscribe_token"]
    other = await identity.registered_and_verified("other@example.org")
    other_id = (await identity.client.get("/v1/me", headers=bearer(other))).json()["user_id"]

    for params in (
        {"user": user_id, "token": token[:-1] + ("A" if token[-1] != "A" else "B")},
        {"user": other_id, "token": token},  # one user's token for another user
        {"user": user_id, "token": ""},
    ):
        refused = await identity.client.post(PATH, params=params)
        assert refused.status_code == 403, params
        assert refused.json()["code"] == "unsubscribe_link_invalid"
    for params in ({"user": user_id}, {"user": user_id, "token": "x" * 500}):
        invalid = await identity.client.post(PATH, params=params)
        assert invalid.status_code == 422 and invalid.json()["code"] == "validation_error"
    fetched = await identity.client.get(PATH, params={"user": user_id, "token": token})
    assert fetched.status_code == 405  # link scanners' GETs change nothing

    me = await identity.client.get("/v1/me", headers=bearer(tokens))
    assert me.json()["newsletter"] is True
    await identity.outbox_settled()
    assert identity.events_named("NewsletterUnsubscribed") == []


async def test_a_link_for_a_deleted_account_is_nothing_to_do(identity: Harness) -> None:
    tokens = await identity.registered_and_verified(EMAIL)
    await identity.client.put("/v1/me/newsletter", headers=bearer(tokens))
    subscribed = await identity.event("NewsletterSubscribed")
    assert subscribed.sealed is not None
    assert (await identity.client.delete("/v1/me", headers=bearer(tokens))).status_code == 204
    clicked = await identity.client.post(
        PATH,
        params={
            "user": subscribed.sealed["user_id"],
            "token": subscribed.sealed["unsubscribe_token"],
        },
    )
    assert clicked.status_code == 200
