"""Way in 3: LTI 1.3 Advantage, so that any LMS launches notebooks without custom code.

The gateway is an LTI tool. A launch is an OpenID Connect third-party-initiated login:

1. ``login``: the platform sends the browser to ``/lti/login``; the gateway records a state
   row (5 minutes, used once, with a nonce), binds it to this browser (platform storage
   when offered, else a partitioned cookie), and sends the browser to the platform's
   authorization endpoint.
2. ``launch``: the platform posts a signed ``id_token`` and the ``state`` to ``/lti/launch``;
   the state is used up first (a replay costs nothing), then ``id_token`` is checked against
   the platform's key set and registration (``validation``), then the browser binding.
3. ``identity`` turns the claims into the same launch request as the other ways in; the user
   ends on the embed page. Course staff become collaborators on the learners' projects
   (``staff``); Deep Linking offers a picker (``deep_linking``); Assignment and Grade Services
   take hand-ins (``grades``); Names and Role Provisioning Services feed ``roster``.

The tool's keys (``tool_keys``) sign Deep Linking responses and the client assertions of
service calls, and are published at ``/lti/jwks``.
"""
