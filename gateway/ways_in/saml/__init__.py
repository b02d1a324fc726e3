"""Way in 5: SAML 2.0 single sign-on, for universities' identity providers (Shibboleth in
InCommon, eduGAIN and national federations; Entra ID and Okta as SAML IdPs).

The gateway is a service provider per host (``sp``), on pysaml2 and Debian's ``xmlsec1``,
with the checks no library makes by default in front of it (``xml_guard``): signature
algorithms and transforms before anything is verified, signature wrapping, comments,
entities, sizes. IdPs come from metadata (``metadata``: a URL, a file, or a federation's
MDQ service; ``idps``); who the user is comes from one table of attributes
(``attributes``). A sign-in (``signin``) ends like the OpenID Connect way in: a session of
the host, its "my notebooks" and notebook pages, opened through the launch pipeline.
"""
