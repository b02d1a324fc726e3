"""``lti1p3platform``'s abstract classes, made concrete for Flask and this LMS's state."""

from __future__ import annotations

import time

from flask import render_template
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.membership import Context
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request, TRequest
from lti1p3platform.score import UpdateScoreStatus
from lti1p3platform.service_connector import (
    AssignmentsGradesService,
    NamesRoleProvisioningService,
)

from .state import LmsState


class FlaskRequest(Request):
    def build_metadata(self, request) -> TRequest:
        return {
            "method": request.method,
            "form_data": request.form.to_dict(),
            # Paging numbers as numbers: the library adds 1 to them for the next page.
            "get_data": {
                k: int(v) if k in ("page", "limit") and v.isdigit() else v
                for k, v in request.args.items()
            },
            "headers": request.headers,
            "content_type": request.content_type,
            "path": request.path,
            "json": request.get_json(silent=True),
        }


class PlatformConf(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs) -> None:
        self.state: LmsState = kwargs["state"]

    def get_registration_by_params(self, **kwargs) -> Registration:
        return self.state.registration()


class MessageLaunch(LTIAdvantageMessageLaunchAbstract):
    """A launch of the tool, spoiled on purpose where ``state.tamper`` says so."""

    def __init__(self, request, platform_config, state: LmsState):
        super().__init__(request, platform_config)
        self.state = state

    def get_launch_data(self):
        message, state = super().get_launch_data()
        tamper = self.state.tamper
        for name in ("aud", "nonce"):
            if name in tamper:
                message[name] = tamper[name]
        if "deployment_id" in tamper:
            message["https://purl.imsglobal.org/spec/lti/claim/deployment_id"] = tamper[
                "deployment_id"
            ]
        return message, state

    def generate_launch_request(self):
        launch = super().generate_launch_request()
        tamper = self.state.tamper
        if "expires_in" in tamper or tamper.get("key") == "other":
            message, state = self.get_launch_data()
            if self._deep_linking_launch_data:
                message.update(self._deep_linking_launch_data)
                message["https://purl.imsglobal.org/spec/lti/claim/message_type"] = (
                    "LtiDeepLinkingRequest"
                )
            now = int(time.time())
            lifetime = int(tamper.get("expires_in", 300))
            message.update({"iat": now - 600 if lifetime < 0 else now, "exp": now + lifetime})
            registration = self.state.registration()
            key = self.state.other_keys[0] if tamper.get("key") == "other" else self.state.keys[0]
            launch = {
                "state": state,
                "id_token": Registration.encode_and_sign(
                    message, key, headers={"kid": registration.get_kid()}
                ),
            }
        return launch

    def render_launch_form(self, launch_data, **kwargs):
        return render_template(
            "lms/autopost.html", action=launch_data.pop("launch_url"), fields=launch_data
        )


class Grades(AssignmentsGradesService):
    """Line items and scores kept in the LMS's state."""

    def __init__(self, request, platform_config, state: LmsState, url: str):
        super().__init__(request, platform_config, lineitems_url=url)
        self.state = state

    def find_lineitems(
        self,
        page=1,
        limit=None,
        line_item_id=None,
        resource_link_id=None,
        resource_id=None,
        tag=None,
        **_,
    ):
        items = [
            item
            for item in self.state.line_items.values()
            if not resource_link_id or item.get("resourceLinkId") == resource_link_id
        ]
        return {"content": items, "has_next": False}

    def find_lineitem(self, line_item_id):
        return self.state.line_items[line_item_id]

    def create_lineitem(self, creation_data):
        with self.state.lock:
            number = str(len(self.state.line_items) + 1)
            item = {**creation_data, "id": f"{self.state.url}/lineitems/{number}"}
            self.state.line_items[number] = item
        return item

    def update_lineitem(self, update_data):
        raise NotImplementedError

    def delete_lineitem(self, line_item_id):
        raise NotImplementedError

    def update_score(self, line_item_id, score):
        with self.state.lock:
            self.state.scores.append({"line_item": line_item_id, **score})
        return UpdateScoreStatus.SUCCESS

    def get_results(self, line_item_id, page=1, limit=None, user_id=None):
        return {"content": [], "has_next": False}


class Roster(NamesRoleProvisioningService):
    """A course's members, served a page at a time."""

    def __init__(self, request, platform_config, state: LmsState, url: str, context_id: str):
        super().__init__(request, platform_config, context_memberships_url=url)
        self.state, self.context_id = state, context_id

    def get_context_by_id(self):
        return Context(id=self.context_id, label=self.context_id, title=self.context_id)

    def get_member_data_page(self, page=1, limit=None, role=None, since=None, **_):
        members = self.state.members.get(self.context_id, [])
        page, limit = int(page), int(limit or self.state.roster_page_size)
        chunk = members[(page - 1) * limit : page * limit]
        return {"content": [dict(m) for m in chunk], "has_next": page * limit < len(members)}

    def is_resource_link_valid(self, context_id, resource_link_id):
        return True
