"""``render``: the canonical text of a transcript, which ``parse`` reads back to the same value.

A timed transcript renders as WebVTT (times, voices, roster in a NOTE), an untimed one as heading
blocks after the roster paragraph. The round trip holds for transcripts the formats can express:
names the roster can list, a non-moderator with an organisation also has a role, a moderator
with a role also has an organisation, and turns that read as speech (not as labels or rosters).
"""

from __future__ import annotations

from transcript.domain.export import to_plain_text, to_webvtt
from transcript.domain.model import Transcript


def render(transcript: Transcript) -> str:
    if transcript.has_times:
        return to_webvtt(transcript)
    return to_plain_text(transcript, style="headings")
