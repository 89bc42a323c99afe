"""The record of an authorised download: the audit trail a user can list, minus the link.

The signed URL is a bearer capability, so it is never stored: the record keeps what was
authorised (who, which rendition, until when), how often a fresh link was issued for it,
and when its bytes were first served (``startedAt``). Stored names are camelCase; the API's
``DownloadRecord`` is snake_case.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from catalog.domain.links import IssuedLink
from catalog.domain.model import OutputModel


class DownloadRecord(OutputModel):
    download_id: str
    video_id: str
    rendition_id: str
    file_name: str
    authorized_at: datetime
    expires_at: datetime
    started_at: datetime | None = None
    reissue_count: int = 0


def download_document(link: IssuedLink, *, key_id: str) -> dict[str, Any]:
    claims = link.claims
    return {
        "_id": claims.download_id,
        "userId": claims.user_id,
        "videoId": claims.video_id,
        "renditionId": claims.rendition_id,
        "fileName": claims.file_name,
        "authorizedAt": link.event.authorized_at,
        "expiresAt": link.expires_at,
        "startedAt": None,
        "reissueCount": 0,
        "keyId": key_id,
    }


def record_of(document: dict[str, Any]) -> DownloadRecord:
    return DownloadRecord(
        download_id=document["_id"],
        video_id=document["videoId"],
        rendition_id=document["renditionId"],
        file_name=document["fileName"],
        authorized_at=document["authorizedAt"],
        expires_at=document["expiresAt"],
        started_at=document.get("startedAt"),
        reissue_count=int(document.get("reissueCount", 0)),
    )
