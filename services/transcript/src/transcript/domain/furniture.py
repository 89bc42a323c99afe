"""Page furniture around a transcript: the portal's account box, "(As delivered)", dates.

The account box is dropped from its first line to "Click the button to return ..."; its other
lines, delivery notes and date lines are dropped wherever they stand.
"""

from __future__ import annotations

import re
from functools import lru_cache

from transcript.domain.text import fold

_BOX_START = frozenset(
    {"nato multimedia account", "compte nato multimedia", "compte multimedia otan"}
)
_BOX_END_PREFIXES = ("click the button to return", "cliquez sur le bouton pour revenir")

_LINES = frozenset(
    fold(line)
    for line in """
    NATO MULTIMEDIA ACCOUNT
    Access NATO's broadcast-quality video content free of charge
    Register
    Create an account
    Check your inbox and enter verification code
    Verification code
    Didn't receive a code? Send new Code
    You have successfully created your account
    From now on you can download videos from our website
    Subscribe to our newsletter
    Reset password
    Create a new password
    Your password has been updated
    Log in
    Sign in
    (As delivered)
    As delivered
    (Check against delivery)
    Check against delivery
    S'inscrire
    Créer un compte
    Code de vérification
    Vérifiez votre boîte de réception et saisissez le code de vérification
    Vous n'avez pas reçu de code ? Envoyer un nouveau code
    Votre compte a bien été créé
    Abonnez-vous à notre lettre d'information
    Réinitialiser le mot de passe
    Créer un nouveau mot de passe
    Votre mot de passe a été mis à jour
    Se connecter
    (Tel que prononcé)
    Tel que prononcé
    (Seul le texte prononcé fait foi)
    Seul le texte prononcé fait foi
    """.strip().splitlines()
)
_PREFIXES = (
    "we have sent a verification code",
    "if you would also like to subscribe",
    "enter the email address you registered with",
    "the password must be at least",
    "nous avons envoye un code de verification",
    "si vous souhaitez egalement vous abonner",
    "saisissez l'adresse electronique",
    "le mot de passe doit",
    "last updated",
    "derniere mise a jour",
    *_BOX_END_PREFIXES,
)
_MONTH = (
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|janv|fevr|mars|avr|mai|juin|juil"
    r"|aout|déc|dec)[a-zéû]*\.?"
)
_DATE = (
    r"^(?:[a-z]+\.?,?\s+)?(?:\d{1,2}(?:st|nd|rd|th|er)?\s+" + _MONTH + r",?\s+\d{4}"
    r"|" + _MONTH + r"\s+\d{1,2},?\s+\d{4}|\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4})"
    r"(?:\s*[-–|,]?\s*\d{1,2}[:h.]\d{2}.*)?$"
)
# A known prefix or a date line, in one match (a ``startswith`` over the prefixes and then the
# date pattern cost two calls per short line).
_PREFIX_OR_DATE = re.compile("|".join(map(re.escape, _PREFIXES)) + "|" + _DATE)
MAX_FURNITURE_CHARS = 200


_NOT_FURNITURE = (False, False)


def line_furniture(line: str) -> tuple[bool, bool]:
    """Whether a (stripped) line is page furniture, and whether it may open an account box
    (see ``box_end``)."""
    return _NOT_FURNITURE if len(line) > MAX_FURNITURE_CHARS else _short_line_furniture(line)


# Short lines repeat: a speaker's heading stands before each of their turns, the furniture on
# every page; the answer is remembered (the pattern's match cost ~0.4 us per short line, a
# sixteenth of the parse). Long lines, mostly unique, are neither hashed nor kept.
@lru_cache(maxsize=16384)
def _short_line_furniture(line: str) -> tuple[bool, bool]:
    key = fold(line)
    is_furniture = key in _LINES or _PREFIX_OR_DATE.match(key) is not None
    return is_furniture, len(line) < 40 and key in _BOX_START


def box_end(lines: list[str], start: int) -> int | None:
    """The index of the line that closes an account box opened before ``start``, or None:
    then the box stays (its lines are dropped one by one if they are furniture), and so does
    any box opened later."""
    for index in range(start, len(lines)):
        line = lines[index]
        if (
            line
            and (line[0] in _BOX_END_INITIALS or line[0] > "\x7f")
            and len(line) < MAX_FURNITURE_CHARS
            and fold(line).startswith(_BOX_END_PREFIXES)
        ):
            return index
    return None


# Lines are stripped, so a line whose first character is ASCII has a key (``fold``) that starts
# with that character in lower case: only these can start a closing line's key (a line is
# folded only if it may be one).
_BOX_END_INITIALS = frozenset(
    initial for prefix in _BOX_END_PREFIXES for initial in (prefix[0], prefix[0].upper())
)
assert all(prefix[0].isascii() for prefix in _BOX_END_PREFIXES)
