"""CoCalc's password rules for sign-up, with the real server's messages.

The real server scores passwords with zxcvbn (score must be above 2) and answers its
feedback; this stand-in recognises the weaknesses that matter for tests (too short, common
passwords, character sequences, repeats, one character class) and answers the same words.
"""

from __future__ import annotations

import re

MIN_LENGTH, MAX_LENGTH = 8, 64
COMMON = {"password", "password1", "12345678", "qwertyui", "letmein1", "iloveyou", "sunshine"}
SEQUENCES = ("abcdefghijklmnopqrstuvwxyz", "0123456789", "qwertyuiop", "asdfghjkl", "zxcvbnm")

SEQUENCE_HELP = (
    'Password is too weak. Common character sequences like "abc" are easy to guess.\n'
    " Avoid common character sequences."
)
COMMON_HELP = (
    "Password is too weak. This is a commonly used password.\n Add more words that are less common."
)
REPEAT_HELP = (
    'Password is too weak. Repeated characters like "aaa" are easy to guess.\n'
    " Avoid repeated words and characters."
)
SIMPLE_HELP = "Password is too weak. \n Add more words that are less common."


def _has_sequence(lowered: str) -> bool:
    for run in SEQUENCES:
        for i in range(len(run) - 2):
            if run[i : i + 3] in lowered or run[i : i + 3][::-1] in lowered:
                return True
    return False


def problem(password: str) -> str | None:
    """Return CoCalc's message for a password sign-up refuses, or None when it passes."""
    if len(password) < MIN_LENGTH:
        return "Your password must not be very easy to guess."
    if len(password) > MAX_LENGTH:
        return f"Your password must be at most {MAX_LENGTH} characters long."
    lowered = password.lower()
    if lowered in COMMON:
        return COMMON_HELP
    # zxcvbn scores the whole password: a run or a sequence sinks a short one, not a long
    # random one that happens to contain "aaa" or "abc".
    varied = len(set(lowered)) >= 12
    if re.search(r"(.)\1\1", password) and not varied:
        return REPEAT_HELP
    if _has_sequence(lowered) and not varied:
        return SEQUENCE_HELP
    classes = sum(
        bool(re.search(p, password)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]")
    )
    if (classes < 2 and len(password) < 16) or len(set(password)) < 6:
        return SIMPLE_HELP
    return None
