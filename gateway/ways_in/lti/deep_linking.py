"""Deep Linking: an instructor picks notebooks of the host's catalogue, or names a new one,
and the gateway answers the LMS with a signed ``LtiDeepLinkingResponse`` holding one
``ltiResourceLink`` per choice, whose custom ``path`` is that file (and a line item, with
its ``submissionReview``, when the LMS allows one).

The catalogue (``launches.catalogue``) is the host's template paths and the template
project's files; several may be chosen where the request says ``accept_multiple``. A new
notebook (``week3/lab.ipynb``) carries the custom ``new=notebook``: each learner gets a
blank one of that name at their first launch (``provisioning.new_files``). An empty
catalogue offers only the new notebook. The picker is an exchange: its key lives only in
the page, is used once, and remembers the request's return URL and opaque ``data``, which
the response must echo.

A grader can go with one chosen notebook of the catalogue (its file in the host's
template project): it is checked now and attached at the link's first launch
(``autograding.offers``), since the LMS names the link only after this response.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from joserfc import jwt

from ...context import Gateway
from ...errors import N_, BadRequest, Forbidden, Gone
from ...hosts import get as get_host
from ...launches import catalogue
from ...launches.request import OneTime
from ...provisioning import new_files
from ...store.lti_tables import LtiPlatform
from ...store.models import Host
from .. import exchanges
from . import claims as c
from . import grades, identity, platforms, roles, tool_keys
from .autograding import graders, offers

log = logging.getLogger(__name__)

PICKER_LIFETIME = timedelta(minutes=30)
RESPONSE_LIFETIME_S = 300
MAX_DATA_BYTES = 4096
#: At most this many notebooks in one response (a course adds a week's worth, not a library).
MAX_CHOSEN = 50
PICKER_GONE = N_("this picker was used already or has expired; open it from the LMS again")


@dataclass(frozen=True)
class Picker:
    key: str
    items: list
    #: The platform takes several content items in one response.
    multiple: bool
    host_id: str
    #: The language the platform asked for (``launch_presentation.locale``), or None.
    locale: str | None = None
    #: A grader can go with the chosen notebook: the request names its course, and the
    #: host has a template project (where the grader's file is).
    grading: bool = False


def open_picker(
    gw: Gateway, platform: LtiPlatform, host: Host, claims: dict, *, once: OneTime | None = None
) -> Picker:
    """Record a picker for a verified Deep Linking request of a course's staff (``once``:
    the launch's one-time value, spent with the picker)."""
    if not roles.is_staff(claims.get(c.ROLES)):
        # The catalogue and the template's file names are the teachers' to see.
        raise Forbidden(N_("only the course's teachers can add notebooks to it"))
    settings = claims.get(c.DL_SETTINGS)
    if not isinstance(settings, dict):
        raise BadRequest(N_("the Deep Linking request has no deep_linking_settings"))
    return_url = platforms.check_url(settings.get("deep_link_return_url"), "deep_link_return_url")
    accept = settings.get("accept_types") or []
    if "ltiResourceLink" not in accept:
        raise BadRequest(N_("this LMS placement does not accept LTI resource links"))
    items = catalogue.offer(gw, host)
    locale = identity.locale_of(claims)
    data = settings.get("data")
    course_id = identity.context_claim(claims).get("id")
    course_id = course_id if isinstance(course_id, str) and course_id else None
    grading = bool(course_id and host.template_project_id and items)
    key = exchanges.create(
        gw,
        "picker",
        lifetime=PICKER_LIFETIME,
        owner_id=platform.id,
        host_id=host.id,
        data={
            "return_url": return_url,
            # Opaque to the tool and echoed back as it came (LTI-DL 4.4.1: usually a string).
            "data": data if len(json.dumps(data)) <= MAX_DATA_BYTES else None,
            "line_item": bool(settings.get("accept_lineitem")),
            "multiple": settings.get("accept_multiple") is True,
            "deployment_id": claims[c.DEPLOYMENT_ID],
            "items": items,
            "locale": locale,
            "course_id": course_id if grading else None,
        },
        spending=once,
    )
    return Picker(key, items, settings.get("accept_multiple") is True, host.id, locale, grading)


def _chosen(picker, paths: list, new_path) -> list[tuple[str, bool]]:
    """The choices of a picker's form: (path, new?) each, checked against what it offered."""
    chosen = [(new_files.notebook_path(new_path), True)] if new_path is not None else []
    for path in dict.fromkeys(paths):  # a path twice is one content item
        if path not in picker.data["items"]:
            raise BadRequest(N_("pick among the notebooks offered"), field="path")
        chosen.append((path, False))
    if not chosen:
        raise BadRequest(N_("choose a notebook, or name a new one"), field="path")
    if len(chosen) > 1 and not picker.data.get("multiple"):
        raise BadRequest(N_("this LMS takes one notebook at a time"), field="path")
    if len(chosen) > MAX_CHOSEN:
        raise BadRequest(
            N_("choose at most %(max_chosen)s notebooks at once"),
            field="path",
            max_chosen=MAX_CHOSEN,
        )
    return chosen


def _grader(gw: Gateway, picker, chosen: list, grader: dict | None) -> graders.Choice | None:
    """The grader the form asks for with the chosen notebook (a file of the host's
    template project), checked; None where it asks for none."""
    grader = grader or {}
    kind = grader.get("kind") or ""
    if not kind:
        return None
    course_id = picker.data.get("course_id")
    if not course_id:
        raise BadRequest(N_("a grader cannot be chosen here"), field="grader")
    if len(chosen) != 1 or chosen[0][1]:
        raise BadRequest(
            N_("a grader grades one notebook of the catalogue: choose one"), field="grader"
        )
    path = grader.get("path") or ""
    if not path.strip():
        raise BadRequest(N_("name the grader's file in the course template"), field="grader_path")
    host = get_host(gw, picker.host_id)
    choice = graders.checked(gw, kind, host.template_project_id, path, grader.get("time_limit"))
    graders.kept_from_learners(host, choice, field="grader_path")
    return choice


def _content_item(path: str, new: bool, picker, launch_url: str, offer_id=None) -> dict:
    title = path.rsplit("/", 1)[-1]
    custom = {"path": path}
    if new:
        custom[identity.NEW_FILE[0]] = identity.NEW_FILE[1]
    if offer_id:
        custom[offers.CUSTOM] = offer_id
    item = {"type": "ltiResourceLink", "title": title, "url": launch_url, "custom": custom}
    if picker.data["line_item"]:
        item["lineItem"] = {
            "scoreMaximum": grades.SCORE_MAXIMUM,
            "label": title,
            "submissionReview": grades.submission_review(launch_url),
        }
    return item


def reopen(gw: Gateway, key) -> Picker | None:
    """The picker of ``key`` as it was offered (to show it again with what was wrong)."""
    picker = exchanges.peek(gw, "picker", key)
    if picker is None:
        return None
    data = picker.data
    return Picker(
        key,
        data["items"],
        bool(data.get("multiple")),
        picker.host_id,
        data.get("locale"),
        bool(data.get("course_id")),
    )


def respond(
    gw: Gateway, key, paths, new_path=None, *, launch_url: str, grader: dict | None = None
) -> tuple[str, str]:
    """Use a picker: return the LMS's return URL and the signed response for the chosen
    notebooks (``paths`` of the catalogue, and ``new_path``, a new notebook's name), with
    the grader the form asks for (``grader``: its kind, path and time limit), if any."""
    # Checked before the picker is used up: a mistyped name leaves it for another try.
    picker = exchanges.peek(gw, "picker", key)
    if picker is None:
        raise Gone(PICKER_GONE)
    chosen = _chosen(picker, paths, new_path)
    choice = _grader(gw, picker, chosen, grader)
    if exchanges.take(gw, "picker", key) is None:
        raise Gone(PICKER_GONE)
    platform = platforms.get(gw, picker.owner_id)
    offer_id = None
    if choice is not None:
        course_id = picker.data["course_id"]
        context = identity.context_of(platform.issuer, course_id)
        offer_id = offers.offer(gw, platform.id, context, course_id, choice)
    items = [_content_item(path, new, picker, launch_url, offer_id) for path, new in chosen]
    now = int(time.time())
    response = {
        "iss": platform.client_id,
        "aud": platform.issuer,
        "iat": now,
        "exp": now + RESPONSE_LIFETIME_S,
        "nonce": secrets.token_urlsafe(16),
        c.DEPLOYMENT_ID: picker.data["deployment_id"],
        c.MESSAGE_TYPE: c.DEEP_LINKING_RESPONSE,
        c.VERSION: "1.3.0",
        c.DL_CONTENT_ITEMS: items,
    }
    if picker.data.get("data") is not None:
        response[c.DL_DATA] = picker.data["data"]
    signing = tool_keys.current(gw).signing
    header = {"alg": tool_keys.ALGORITHM, "kid": signing.kid, "typ": "JWT"}
    return picker.data["return_url"], jwt.encode(header, response, signing)
