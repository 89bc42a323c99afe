"""Structured JSON logs, one object per line on stdout, with secrets redacted.

Every line has an ISO-8601 UTC ``timestamp``, ``level``, ``service.name`` and ``event`` (the
log event's name), ``trace_id``/``span_id`` of the current OpenTelemetry span, plus whatever is
bound in context: ``correlation_id``, ``request_id``, ``event_id``/``event_type`` while a
message is handled. The fields and every event name are documented in docs/LOGGING.md and
docs/log-line.schema.json (a test holds the code to them). The redaction processor
runs last before rendering, so nothing a caller binds or passes can bypass it; stdlib loggers
(uvicorn, aio-pika, pymongo) go through the same chain.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

from portal_shared.metrics import count_audit
from portal_shared.tracing import ids_of

REDACTED = "[REDACTED]"
_process_service = ["unknown"]  # the service this process logs as (labels audit metrics)

# Keys whose values are secrets wherever they appear (compared lower-cased, '-' as '_').
_SECRET_KEY = re.compile(
    r"(^|_)(password|passwd|pwd|secret|token|code|otp|pin|authorization|cookie|set_cookie"
    r"|api_key|apikey|private_key|sealed|signature|sig|credentials?)($|_)"
)
# Keys that look secret by name but are not (counters, HTTP status, rule ids).
_NOT_SECRET_KEYS = frozenset(
    {
        "status_code",
        "http.response.status_code",
        "http_status_code",
        "exit_code",
        "error_code",
        "reply_code",
        "code_kind",
        "smtp_code",
        "rule_code",
        "code_purpose",
        "codes_sent",
        "code_expires_at",
        "token_version",
        "token_type",
        "reason_code",
    }
)
_EMAIL = re.compile(
    r"(?<![\w.+-])([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})"
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
_URL_SECRET = re.compile(r"(?i)([?&](?:sig|signature|token|code|md5)=)[^&\s]+")
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/\s@]*:)[^@\s/]+@")
# What every pattern above needs somewhere in the text (a superset, case aside): a text
# without any is returned as it is after one search instead of five substitutions (half of a
# log line's cost: 34 of 67 us, most values being ids, routes and timestamps).
_MAYBE_SECRET = re.compile(r"[@=]|eyj|bearer|basic", re.IGNORECASE)


def mask_email(address: str) -> str:
    return _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", address)


def scrub_text(text: str) -> str:
    """Mask addresses and remove bearer tokens, JWTs, signed-URL parameters, URL passwords."""
    if not _MAYBE_SECRET.search(text):
        return text
    text = _URL_PASSWORD.sub(rf"\g<1>{REDACTED}@", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _JWT.sub(REDACTED, text)
    text = _URL_SECRET.sub(rf"\g<1>{REDACTED}", text)
    return mask_email(text)


@functools.lru_cache(maxsize=4096)  # the keys are the code's field names, a few hundred
def is_secret_key(key: str) -> bool:
    normal = key.lower().replace("-", "_")
    return normal not in _NOT_SECRET_KEYS and bool(_SECRET_KEY.search(normal))


def redact(value: Any, depth: int = 0) -> Any:
    """Return ``value`` with secret-named keys replaced and free text scrubbed, recursively."""
    if depth > 8:
        return REDACTED
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, Mapping):
        return {
            k: (
                REDACTED
                if isinstance(k, str) and is_secret_key(k) and v is not None
                else redact(v, depth + 1)
            )
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(v, depth + 1) for v in value]
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return value


def redact_processor(
    _logger: Any, _name: str, event_dict: MutableMapping[str, Any]
) -> Mapping[str, Any]:
    return redact(event_dict)  # type: ignore[no-any-return]


def configure_logging(service: str, level: str = "info", stream: Any = None) -> None:
    """Route structlog and stdlib logging to one JSON line per record on ``stream``."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_service(service),
        _add_trace,
        structlog.processors.format_exc_info,
        structlog.processors.StackInfoRenderer(),
    ]
    # Redaction last before rendering, for our lines and stdlib's alike.
    rendering: list[Any] = [redact_processor, structlog.processors.JSONRenderer(default=str)]
    out = stream or sys.stdout
    structlog.configure(
        # Our own lines are rendered by this chain and written to the stream directly, not
        # through stdlib logging (two LogRecords and a formatter per line: 25 of a line's
        # ~60 us). A line below the level is dropped before the chain runs.
        processors=[*shared, _rename_logger, *rendering],
        logger_factory=_NamedWriteLoggerFactory(out),
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *shared],
        processors=[
            _rename_logger,
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *rendering,
        ],
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiormq", "aio_pika", "pymongo", "httpx", "httpcore", "multipart"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    logging.getLogger("uvicorn.access").disabled = True  # our middleware logs requests
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


def _add_service(service: str) -> Any:
    def processor(
        _logger: Any, _name: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        event_dict.setdefault("service.name", service)
        return event_dict

    _process_service[0] = service
    return processor


def _add_trace(
    _logger: Any, _name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    ids = ids_of()
    if ids is not None:
        event_dict.setdefault("trace_id", ids[0])
        event_dict.setdefault("span_id", ids[1])
    return event_dict


def _rename_logger(
    _logger: Any, _name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    record = event_dict.get("_record")  # a stdlib line's; else ours (_NamedWriteLogger)
    name = record.name if record is not None else getattr(_logger, "name", None)
    if name is not None and "logger" not in event_dict:
        event_dict["logger"] = name
    return event_dict


class _NamedWriteLogger(structlog.WriteLogger):
    """structlog's line writer, knowing the name ``get_logger`` was given (the ``logger``)."""

    def __init__(self, file: Any, name: str | None) -> None:
        super().__init__(file)
        self.name = name


class _NamedWriteLoggerFactory:
    """One writer per name, all writing to ``file``."""

    def __init__(self, file: Any) -> None:
        self.file = file
        self._loggers: dict[str | None, _NamedWriteLogger] = {}

    def __call__(self, *args: Any) -> _NamedWriteLogger:
        name = args[0] if args and isinstance(args[0], str) else None
        found = self._loggers.get(name)
        if found is None:
            found = self._loggers[name] = _NamedWriteLogger(self.file, name)
        return found


def get_logger(name: str | None = None) -> Any:
    """A logger whose lines name ``name`` (default: the calling module) as ``logger``."""
    return structlog.get_logger(name or sys._getframe(1).f_globals.get("__name__"))


def audit(log: Any, action: str, *, outcome: str, **fields: Any) -> None:
    """An audit line ops dashboards count: ``audit=True``, ``action``, ``outcome``, who/where."""
    count_audit(_process_service[0], action, outcome, fields.get("reason"))
    # What the line does not know (no user behind a rejected reset token) is left out, never
    # written as null: the log schema types every field.
    fields = {name: value for name, value in fields.items() if value is not None}
    if "client_ip" in fields:  # the OpenTelemetry name in the log line
        fields["client.address"] = fields.pop("client_ip")
    log.info(f"audit.{action}", audit=True, action=action, outcome=outcome, **fields)
