"""A doctor's finding: one check, whether it passed, why, and what to do about it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"


@dataclass
class Finding:
    name: str
    status: str
    detail: str
    #: What the operator should do (empty when nothing).
    action: str = ""
    #: A site setting ``--fix`` may set: (name, new value), or None.
    fix: tuple[str, str] | None = None
    #: The fix takes effect only after CoCalc's hub restarts.
    restart: bool = False
    facts: dict = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.status == FAIL

    def as_dict(self) -> dict:
        found = asdict(self)
        found["fix"] = {"setting": self.fix[0], "value": self.fix[1]} if self.fix else None
        return found
