"""Every table of the gateway in one metadata: the core (``models``), LTI's and SSO's.

The table modules do not import each other to register themselves; this module, which the
migrations and the tests read, assembles them.
"""

from __future__ import annotations

from . import lti_tables, sso_tables
from .models import Base

#: Each table module, for the reader (importing them registered their tables).
MODULES = (lti_tables, sso_tables)
metadata = Base.metadata
