"""The HTTP API of the transcript service: its title, description, tags and routers."""

from __future__ import annotations

from transcript.entrypoints.routers import search, submissions, transcripts

TITLE = "Transcript service"
DESCRIPTION = (
    "Editors submit transcripts of catalogue videos (text, WebVTT or SRT); each submission is "
    "a new revision, published as one TranscriptSegmentPublished per segment and one "
    "TranscriptPublished. Anyone may read transcripts, list a speaker's segments, search "
    "words across transcripts and download WebVTT, SRT, JSON or plain-text exports."
)
OPENAPI_TAGS = [
    {"name": "editing", "description": "Submitting transcripts (editors only)"},
    {"name": "transcripts", "description": "Reading and exporting transcripts"},
    {"name": "search", "description": "Word search across transcripts"},
]
ROUTERS = [submissions.router, transcripts.router, search.router]
