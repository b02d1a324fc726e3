"""A host's catalogue: the notebooks its users may open without a link naming one.

The template paths configured for the host come first, then the template project's other
files where the CoCalc API can list them (a ``find`` in the project, cached for a minute).
An LMS's Deep Linking picker offers it, and so does an SSO user's "my notebooks" page.
"""

from __future__ import annotations

import logging
import time

from ..cocalc import CoCalcError
from ..context import Gateway
from ..errors import BadRequest
from ..provisioning.paths import clean_path
from ..store.models import Host

log = logging.getLogger(__name__)

LISTING_CACHE_S = 60.0
MAX_ITEMS = 500


def _project_files(gw: Gateway, project_id: str) -> list[str]:
    memo = gw.memo.setdefault("template_listings", {})
    hit = memo.get(project_id)
    if hit and time.monotonic() - hit[0] < LISTING_CACHE_S:
        return hit[1]
    try:
        output = gw.cocalc.project_exec(
            project_id, "find", args=[".", "-type", "f", "-not", "-path", "*/.*"], timeout=10
        )
    except CoCalcError as exc:
        log.info("the template project's files cannot be listed: %s", type(exc).__name__)
        return []
    files = []
    for line in output.stdout.splitlines() if output.exit_code == 0 else []:
        try:
            path = clean_path(line.removeprefix("./"))
        except BadRequest:
            continue
        if path and not any(part.startswith(".") for part in path.split("/")):
            files.append(path)
    memo[project_id] = (time.monotonic(), files[:MAX_ITEMS])
    return memo[project_id][1]


def offer(gw: Gateway, host: Host) -> list[str]:
    """What the picker offers: the template paths first, then the template's other files."""
    items = list(dict.fromkeys(host.template_paths or []))
    if host.template_project_id:
        items += [f for f in _project_files(gw, host.template_project_id) if f not in items]
    return items[:MAX_ITEMS]
