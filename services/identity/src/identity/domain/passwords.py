"""The password rule: what a new password must satisfy, with every broken rule reported.

Product copy: "at least 12 characters long, no spaces, include upper/lowercase letters, numbers
and symbols". On top of that: at most 128 characters, not the account's email address (nor
built around its local part), not a common password.

Decisions:
- The password is NFKC-normalised first (the same form is hashed, see ``hashing.py``), so a
  composed and a decomposed "é" are the same password; lengths count code points of that form.
- "No spaces" means any Unicode whitespace (``str.isspace``: space, tab, NBSP, em space, line
  breaks...) plus the invisible U+200B, U+2060 and U+FEFF, which users cannot see they typed.
- A symbol is any character that is not a letter, digit or space. Control characters and lone
  surrogates are not symbols: they are rejected as ``invalid_character``.
- Letters without case (e.g. CJK) are allowed but count as neither upper nor lower case.
- ``matches_email``: the password equals the address or its local part, contains the address,
  or contains the local part (also without its "+tag", and ignoring ``. _ - +`` on both sides)
  when that local part has at least 4 characters; shorter ones only count when equal, so that
  "al@..." does not forbid every password containing "al". Case-insensitive.
- ``too_common``: a list of 30,000 leaked passwords (zxcvbn's, see
  ``scripts/build_common_passwords.py``) contains almost nothing that meets the complexity
  rules, so the password is also compared through a few normalised forms: lower-cased,
  trailing symbols removed, leading/trailing digits and symbols removed ("2024Summer!!" ->
  "summer"), each also with common leetspeak undone ("P@ssw0rd2024!" -> "password";
  1 and ! read both as i and as l).
"""

from __future__ import annotations

import functools
import gzip
import re
import unicodedata
from enum import StrEnum
from importlib import resources

from identity.domain.errors import PasswordRejected

MIN_LENGTH = 12
MAX_LENGTH = 128
MIN_LOCAL_PART_LENGTH = 4
COMMON_PASSWORDS_RESOURCE = ("identity.domain", "data/common_passwords.txt.gz")

_INVISIBLE_SPACES = frozenset("\u200b\u2060\ufeff")
_TRAILING_SYMBOLS = re.compile(r"[\W_]+$")
_TRAILING_NON_LETTERS = re.compile(r"[\W\d_]+$")
_LEADING_NON_LETTERS = re.compile(r"^[\W\d_]+")
_EMAIL_SEPARATORS = str.maketrans("", "", "._-+")
_LEET_AS_I = str.maketrans(
    {"@": "a", "4": "a", "8": "b", "(": "c", "3": "e", "6": "g", "9": "g", "1": "i", "!": "i",
     "|": "l", "0": "o", "$": "s", "5": "s", "7": "t", "+": "t", "2": "z"}
)  # fmt: skip
_LEET_AS_L = str.maketrans({"1": "l", "!": "l"})


class PasswordRule(StrEnum):
    """Stable ids of the password rules; the pages translate them."""

    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    CONTAINS_SPACE = "contains_space"
    INVALID_CHARACTER = "invalid_character"
    MISSING_UPPERCASE = "missing_uppercase"
    MISSING_LOWERCASE = "missing_lowercase"
    MISSING_DIGIT = "missing_digit"
    MISSING_SYMBOL = "missing_symbol"
    MATCHES_EMAIL = "matches_email"
    TOO_COMMON = "too_common"


def normalise_password(password: str) -> str:
    """The form that is checked and hashed: Unicode NFKC."""
    return unicodedata.normalize("NFKC", password)


def password_violations(password: str, email: str | None = None) -> list[PasswordRule]:
    """Every rule ``password`` breaks, in the order of ``PasswordRule``; empty when accepted."""
    candidate = normalise_password(password)
    broken = _length_violations(candidate) + _character_violations(candidate)
    lowered = candidate.lower()
    if email and _matches_email(lowered, email):
        broken.append(PasswordRule.MATCHES_EMAIL)
    if is_common_password(lowered):
        broken.append(PasswordRule.TOO_COMMON)
    return broken


def check_password(password: str, email: str | None = None) -> None:
    """Raise ``PasswordRejected`` listing every broken rule, or return when accepted."""
    broken = password_violations(password, email)
    if broken:
        raise PasswordRejected([rule.value for rule in broken])


def _length_violations(password: str) -> list[PasswordRule]:
    if len(password) < MIN_LENGTH:
        return [PasswordRule.TOO_SHORT]
    if len(password) > MAX_LENGTH:
        return [PasswordRule.TOO_LONG]
    return []


def _character_violations(password: str) -> list[PasswordRule]:
    spaces = [ch for ch in password if _is_space(ch)]
    invalid = [ch for ch in password if not _is_space(ch) and _is_invalid(ch)]
    checks = [
        (PasswordRule.CONTAINS_SPACE, bool(spaces)),
        (PasswordRule.INVALID_CHARACTER, bool(invalid)),
        (PasswordRule.MISSING_UPPERCASE, not any(ch.isupper() for ch in password)),
        (PasswordRule.MISSING_LOWERCASE, not any(ch.islower() for ch in password)),
        (PasswordRule.MISSING_DIGIT, not any(ch.isdigit() for ch in password)),
        (PasswordRule.MISSING_SYMBOL, not any(_is_symbol(ch) for ch in password)),
    ]
    return [rule for rule, broken in checks if broken]


def _is_space(ch: str) -> bool:
    return ch.isspace() or ch in _INVISIBLE_SPACES


def _is_invalid(ch: str) -> bool:
    return unicodedata.category(ch) in {"Cc", "Cs"}


def _is_symbol(ch: str) -> bool:
    return not (ch.isalpha() or ch.isdigit() or _is_space(ch) or _is_invalid(ch))


def _matches_email(lowered_password: str, email: str) -> bool:
    address = email.strip().lower()
    local_part = address.rpartition("@")[0] or address
    if lowered_password in {address, local_part} or address in lowered_password:
        return True
    compact_password = lowered_password.translate(_EMAIL_SEPARATORS)
    for token in {local_part, local_part.partition("+")[0]}:
        compact = token.translate(_EMAIL_SEPARATORS)
        if len(compact) >= MIN_LOCAL_PART_LENGTH and compact in compact_password:
            return True
    return False


def is_common_password(password: str) -> bool:
    """True when the password, or one of its normalised forms, is on the common list."""
    common = common_passwords()
    return any(form in common for form in _common_forms(password.lower()))


def _common_forms(lowered: str) -> set[str]:
    without_symbols = _TRAILING_SYMBOLS.sub("", lowered)
    without_suffix = _TRAILING_NON_LETTERS.sub("", lowered)
    core = _LEADING_NON_LETTERS.sub("", without_suffix)
    forms = {lowered, without_symbols, without_suffix, core}
    undone = {form.translate(_LEET_AS_L).translate(_LEET_AS_I) for form in forms}
    undone |= {form.translate(_LEET_AS_I) for form in forms}
    return forms | undone


@functools.cache
def common_passwords() -> frozenset[str]:
    """The bundled list, lower-cased; read from the package on first use, then kept."""
    package, name = COMMON_PASSWORDS_RESOURCE
    packed = resources.files(package).joinpath(name).read_bytes()
    return frozenset(gzip.decompress(packed).decode("utf-8").split())
