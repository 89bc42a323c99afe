"""Why an email could not be rendered.

Two outcomes are kept apart on purpose: ``RenderError`` means the input is wrong (a bug or a
poisoned message: retry will not help, park it), while ``CodeExpired`` is an ordinary outcome
the service records as ``skipped_expired`` without sending anything.
"""

from __future__ import annotations

from portal_shared.error_codes import ErrorCode


class RenderError(ValueError):
    """The event, its private part or the settings cannot make a valid email."""


class CodeExpired(Exception):
    """The code in the email has already expired at send time, so the email is not sent."""


class DeliveryNotFound(Exception):
    """The notifier has no record of an email for this event id (yet), or the id is not one."""

    code = ErrorCode.DELIVERY_NOT_FOUND
