"""The one rule for a path in a user's project, whoever gives it (a launch token, the API,
an LMS's custom parameter, a host's template paths, the relay): relative to the project's
home folder, and unable to reach outside it."""

from __future__ import annotations

import re
import unicodedata

from ..errors import N_, BadRequest

MAX_PATH = 4096
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
#: Characters no path may hold: control characters, and lone surrogates (which cannot be
#: stored or sent on, and arrive as valid JSON escapes such as "\ud800").
PATH_REFUSED = frozenset({"Cc", "Cs"})


def clean_path(path) -> str:
    """Return a project-relative path; refuse absolute ones, ``..``, NUL and control chars."""
    if path is None:
        return ""
    if not isinstance(path, str):
        raise BadRequest(N_("path must be a string"), field="path")
    if len(path) > MAX_PATH:
        raise BadRequest(
            N_("path is longer than %(max_path)s characters"), field="path", max_path=MAX_PATH
        )
    if CONTROL_RE.search(path) or any(unicodedata.category(c) in PATH_REFUSED for c in path):
        raise BadRequest(N_("path contains NUL or control characters"), field="path")
    if path.startswith(("/", "~")) or "\\" in path:
        raise BadRequest(N_("path must be relative to the project's home folder"), field="path")
    segments = [s for s in path.split("/") if s not in ("", ".")]
    if ".." in segments:
        raise BadRequest(N_("path must not contain '..'"), field="path")
    return "/".join(segments)
