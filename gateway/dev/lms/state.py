"""What the LMS knows: its keys, the tool's registration, pending launches, and what the
tool sent back (scores, line items, Deep Linking choices, registrations)."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lti1p3platform.registration import Registration


def new_key_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@dataclass
class LmsState:
    """One LMS with one registration of one tool (the gateway at ``tool_url``)."""

    tool_url: str = ""
    url: str = ""
    client_id: str = "cocalc-gateway-tool"
    deployment_id: str = "deployment-1"
    keys: tuple[str, str] = field(default_factory=new_key_pair)
    other_keys: tuple[str, str] = field(default_factory=new_key_pair)
    #: lti_message_hint -> the launch a course page asked for
    messages: dict = field(default_factory=dict)
    #: How the next launches are spoiled (tests): aud, nonce, deployment_id, expires_in,
    #: key ("other": signed by a key the key set does not have, under the published kid).
    tamper: dict = field(default_factory=dict)
    scores: list = field(default_factory=list)
    line_items: dict = field(default_factory=dict)
    members: dict = field(default_factory=dict)  # context id -> NRPS members
    names: dict = field(default_factory=dict)  # user id -> the name its launches carried
    roster_page_size: int = 2
    deep_link_items: list = field(default_factory=list)
    registrations: list = field(default_factory=list)
    registration_token: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    token_requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def issuer(self) -> str:
        return self.url

    def registration(self) -> Registration:
        return (
            Registration()
            .set_iss(self.issuer)
            .set_client_id(self.client_id)
            .set_deployment_id(self.deployment_id)
            .set_oidc_login_url(self.tool_url + "/lti/login")
            .set_launch_url(self.tool_url + "/lti/launch")
            .set_deeplink_launch_url(self.tool_url + "/lti/launch")
            .set_tool_key_set_url(self.tool_url + "/lti/jwks")
            .set_platform_private_key(self.keys[0])
            .set_platform_public_key(self.keys[1])
        )

    def rotate_keys(self) -> None:
        """The LMS rotates its key: the new one signs and is the one published."""
        self.keys = new_key_pair()

    def gateway_commands(self, host_id: str) -> dict:
        """What ``lti platforms add`` needs to register this LMS."""
        return {
            "host_id": host_id,
            "issuer": self.issuer,
            "client_id": self.client_id,
            "deployment_ids": [self.deployment_id],
            "login_url": self.url + "/auth",
            "token_url": self.url + "/token",
            "jwks_url": self.url + "/jwks",
        }
