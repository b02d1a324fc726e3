"""Way in 4: OpenID Connect sign-in, for users who come to the gateway directly.

``/sso/<host_id>/login`` starts an authorization code flow with PKCE (S256), ``state`` and
``nonce`` (``signin``); the state lives on the server, used once, and a signed first-party
cookie ties it to the browser that started it. ``/sso/callback`` exchanges the code, checks
the ``id_token`` (``validation``), reads names from userinfo when the token has none, and
provisions the user like every way in; the user lands on a full-page notebook, or on
"my notebooks" (``views``). A signed-in browser holds a session (``sessions``) that
sign-out ends, with the provider too where it offers RP-initiated logout.

authlib does the OAuth 2 side (the authorization URL with PKCE, the code exchange with the
client's secret); joserfc checks the id_token against the provider's key set. authlib's
Flask client is not used: it keeps the state in Flask's session, which the gateway never
opens (its state must be server-side and used once).
"""
