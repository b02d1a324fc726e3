"""New files a course asks for (a Deep Linking "new notebook"): each learner gets a blank
one of that name in their own project at their first launch, and never again.

The rule is "create, never overwrite". The gateway records each file it made
(``created_files``), so a warm launch asks CoCalc nothing; the first launch asks the project
whether the file is there (``test -e``) and writes the blank file only if not: a learner
who made the file some other way keeps it. The look and the write run under the project's
file lock, so two first launches at once make one file.
"""

from __future__ import annotations

import json

from sqlalchemy import insert, select

from ..context import Gateway
from ..errors import N_, BadRequest
from ..store.locks import db_lock
from ..store.models import CreatedFile
from .paths import clean_path

NOTEBOOK_SUFFIX = ".ipynb"
#: An empty Jupyter notebook (nbformat 4) with CoCalc's default Python kernel.
BLANK_NOTEBOOK = json.dumps(
    {
        "cells": [],
        "metadata": {
            "kernelspec": {
                "display_name": "Python 3 (system-wide)",
                "language": "python",
                "name": "python3",
            }
        },
        "nbformat": 4,
        "nbformat_minor": 4,
    },
    indent=1,
)


def notebook_path(name) -> str:
    """A new notebook's name as a teacher types it (``week3/lab.ipynb``), checked."""
    try:
        path = clean_path(name.strip() if isinstance(name, str) else name)
    except BadRequest as exc:
        raise BadRequest(exc.message_id, field="new_path", **exc.params) from None
    if not path:
        raise BadRequest(N_("name the new notebook, for example week3/lab.ipynb"), field="new_path")
    if not path.lower().endswith(NOTEBOOK_SUFFIX) or len(path) <= len(NOTEBOOK_SUFFIX):
        raise BadRequest(N_("a notebook's name ends in .ipynb"), field="new_path")
    if any(part.startswith(".") for part in path.split("/")) or len(path) > 1024:
        raise BadRequest(N_("a new notebook cannot be hidden or that long"), field="new_path")
    return path


def _made(db, user_project_id: int, path: str) -> bool:
    return (
        db.fetch(
            select(CreatedFile.path).where(
                CreatedFile.user_project_id == user_project_id, CreatedFile.path == path
            )
        )
        is not None
    )


def ensure(gw: Gateway, user_project_id: int, project_id: str, path: str) -> bool:
    """Make the blank file ``path`` unless it was made (or found) before; True if made now."""
    if _made(gw.db, user_project_id, path):
        return False
    with db_lock(gw.db, f"new-file:{user_project_id}") as db:
        if _made(db, user_project_id, path):
            return False
        there = gw.cocalc.project_exec(project_id, "test", args=["-e", path]).exit_code == 0
        if not there:
            blank = BLANK_NOTEBOOK if path.lower().endswith(NOTEBOOK_SUFFIX) else ""
            gw.cocalc.write_text_file_to_project(project_id, path, blank)
        db.write((insert(CreatedFile), {"user_project_id": user_project_id, "path": path}))
        return not there
