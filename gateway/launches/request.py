"""What every way in produces and ``launches.pipeline.open`` consumes: a verified request to
show a file of a user's project, the one-time value it spends, and what goes with its page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Table, Update
from sqlalchemy.sql import Executable

from ..errors import GatewayError
from ..provisioning import Provisioned
from ..provisioning.profile import UserProfile
from ..store.models import Host


@dataclass(frozen=True)
class LaunchRequest:
    """A verified request to show ``path`` of the user's ``context`` project.

    ``via`` names the way in (``token``, ``api``, ``lti``, ``lti-review``, ``sso``, ``saml``,
    ``new-tab``): the launch is counted under it.
    """

    host: Host
    profile: UserProfile
    path: str
    context: str
    via: str = "token"
    jti: str | None = None
    expires_at: int | None = None
    #: The language the launch asks for (a BCP 47 tag): the page speaks it.
    locale: str | None = None


@dataclass(frozen=True)
class OneTime:
    """A value a launch may spend once (a launch token's ``jti``, a one-time link, a sign-in's
    state, a new-tab ticket), spent in the transaction that records the page.

    ``spend`` must change exactly one row while the value is unspent (an INSERT that a
    primary key refuses the second time, or an UPDATE of an unused row); ``spent`` finds it
    spent, so that a replay is refused before any other work, and CoCalc is never asked;
    ``refusal`` is what the replay gets. ``jti`` lets the warm launch spend a launch token's
    ``jti`` inside its one statement: (host id, jti, expiry).
    """

    spend: Executable
    refusal: GatewayError
    spent: Executable | None = None
    jti: tuple | None = None

    def spend_in(self, connection) -> bool:
        """Spend the value in the caller's transaction: False when it was spent already (an
        INSERT that the key refuses raises IntegrityError instead, which the caller takes
        as the same answer)."""
        result = connection.execute(self.spend)
        return result.rowcount == 1 if isinstance(self.spend, Update) else True


@dataclass(frozen=True)
class Attached:
    """A row that belongs to a page (an LTI page's actions, a grade link), written in the
    page's transaction with the page's digest as ``launch_digest``."""

    table: Table
    values: dict = field(default_factory=dict)


#: A way in's own step between provisioning and the page: it may do more (a new blank
#: notebook, a staff member noted) and returns whose page it is (a review shows the
#: learner's project to the reviewer).
Prepare = Callable[[Provisioned], Provisioned]
