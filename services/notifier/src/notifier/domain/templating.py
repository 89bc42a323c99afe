"""Jinja environments and the rendering of one template into subject, text and HTML.

Each kind's template (``templates/<language>/<kind>.j2``) is rendered three times: its
subject and plain-text parts in a non-escaping environment, its HTML part in an autoescaping
one, so a value such as ``<script>`` is inert in the HTML yet shown as typed in the text.
Environments are built lazily (no I/O at import) and cached; StrictUndefined turns a missing
value into an error instead of a silent blank.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, TemplateError

from notifier.domain.errors import RenderError

_BLANK_LINES = re.compile(r"\n{3,}")
# ASCII whitespace only: a French no-break space before ":" or "?" must survive tidying.
_ASCII_SPACES = re.compile(r"[ \t\r\n]+")


@dataclass(frozen=True, slots=True)
class RenderedParts:
    subject: str
    text: str
    html: str


@cache
def html_environment() -> Environment:
    return _environment(autoescape=True)


@cache
def text_environment() -> Environment:
    return _environment(autoescape=False)


def template_name(kind: str, language: str) -> str:
    return f"{language}/{kind}.j2"


def render_parts(kind: str, language: str, context: dict[str, Any]) -> RenderedParts:
    """Render the subject, plain text and HTML of one kind in one language."""
    name = template_name(kind, language)
    try:
        text_template = text_environment().get_template(name)
        html_template = html_environment().get_template(name)
        subject = text_template.render(context, part="subject")
        text = text_template.render(context, part="text")
        html = html_template.render(context, part="html")
    except TemplateError as exc:
        raise RenderError(f"template {name} failed: {exc}") from exc
    return RenderedParts(
        subject=_ASCII_SPACES.sub(" ", subject).strip(" "),
        text=_tidy(text),
        html=_drop_blank_lines(html),
    )


def _environment(*, autoescape: bool) -> Environment:
    return Environment(
        loader=PackageLoader("notifier", "templates"),
        # Off only for the plain-text parts: escaping would corrupt text, and it never holds HTML.
        autoescape=autoescape,  # noqa: S701
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _tidy(text: str) -> str:
    """No trailing spaces, at most one blank line in a row, one final newline."""
    lines = "\n".join(line.rstrip(" \t") for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", lines).strip("\n") + "\n"


def _drop_blank_lines(html: str) -> str:
    return "\n".join(line for line in html.split("\n") if line.strip(" \t")) + "\n"
