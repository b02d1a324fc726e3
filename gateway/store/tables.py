"""Every table of the gateway, named: the core's (``models``), LTI's (and autograding's),
SSO's and SAML's.

The migrations' metadata (``metadata``) is assembled here from the tables listed, never
from whatever a module happened to register by being imported: a table that no one lists
here is no table of the gateway's (``tests/store/test_migrations.py`` holds the list and
the migrations to each other).
"""

from __future__ import annotations

from sqlalchemy import MetaData

from . import autograde_tables, lti_tables, models, saml_tables, sso_tables

CORE = (
    models.Host,
    models.HostUser,
    models.UserProject,
    models.CreatedFile,
    models.FirstProject,
    models.CachedToken,
    models.SpareToken,
    models.Launch,
    models.Revocation,
    models.UsedTokenId,
    models.GatewayState,
    models.Exchange,
    models.RateCount,
    models.Lock,
)
LTI = (
    lti_tables.LtiPlatform,
    lti_tables.LtiToolKey,
    lti_tables.LtiContext,
    lti_tables.LtiGradeLink,
    lti_tables.ContextStaff,
    lti_tables.StaffGrant,
    lti_tables.LtiHandIn,
    lti_tables.LtiScore,
    lti_tables.LtiPage,
)
SSO = (sso_tables.SsoProvider, sso_tables.SsoSession)
SAML = (saml_tables.SamlIdp, saml_tables.SamlSpKey)
AUTOGRADE = (
    autograde_tables.LtiAutograder,
    autograde_tables.LtiAutogradeRun,
    autograde_tables.LtiAutogradeOffer,
)
#: Every mapped class, in the order above.
MODELS = (*CORE, *LTI, *SSO, *SAML, *AUTOGRADE)


def _assembled() -> MetaData:
    assembled = MetaData()
    for model in MODELS:
        model.__table__.to_metadata(assembled)
    return assembled


#: The tables the migrations build and the tests empty.
metadata = _assembled()
