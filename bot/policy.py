"""Roles and the policy decision every operation passes through.

Slack user ids (`U…`/`W…`) and user-group ids (`S…`) map to `viewer` (read), `operator`
(read, write) or `admin` (everything). A target may override the global roles.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from bot.risk import Risk
from bot.settings import ROLE_ORDER, AppConfig, Target
from bot.ui.mrkdwn import Mrkdwn, md, user, usergroup


class Operation(Protocol):
    """What policy needs to know of an operation (`bot.operations.base.Operation` has it)."""

    @property
    def name(self) -> str: ...
    @property
    def risk(self) -> Risk: ...
    @property
    def qualified_name(self) -> str: ...
    @property
    def command(self) -> str: ...
    @property
    def min_role(self) -> str: ...

#: The least role that may *request* an operation. Operators request destructive work; an admin
#: must approve it (see `needs_approval`).
REQUIRED_ROLE: dict[Risk, str] = {
    Risk.READ: "viewer",
    Risk.WRITE: "operator",
    Risk.DESTRUCTIVE: "operator",
}


def required_role(operation: Operation) -> str:
    """The least role that may run `operation`: its risk's, or its own `min_role` when that is higher."""
    needed = REQUIRED_ROLE[operation.risk]
    if operation.min_role and ROLE_ORDER[operation.min_role] > ROLE_ORDER[needed]:
        return operation.min_role
    return needed


APPROVER_ROLE = "admin"

GroupResolver = Callable[[str], Awaitable[list[str]]]


@dataclass
class Decision:
    allowed: bool
    role: str
    needed: str
    holders: list[str] = field(default_factory=list)

    @property
    def reason(self) -> str:
        if self.allowed:
            return ""
        who = Mrkdwn(", ").join(user(h) if h[:1] in "UW" else usergroup(h) for h in self.holders[:5])
        holders = md(" Ask {}.", who) if who else " No one holds it yet: an admin must add it to the config."
        return md("This needs the *{}* role; you are *{}*.{}", self.needed, self.role, holders)


class Policy:
    def __init__(self, config: AppConfig, resolve_group: GroupResolver | None = None) -> None:
        self.config = config
        self.resolve_group = resolve_group
        self._groups: dict[str, tuple[float, list[str]]] = {}

    def _role_lists(self, target: Target | None) -> dict[str, list[str]]:
        roles = self.config.roles
        lists = {"admin": roles.admin, "operator": roles.operator, "viewer": roles.viewer}
        if target is not None:
            for role, members in target.policy.roles.items():
                lists[role] = members
        return lists

    async def _members(self, group_id: str) -> list[str]:
        cached = self._groups.get(group_id)
        if cached and time.monotonic() - cached[0] < 300:
            return cached[1]
        members: list[str] = []
        if self.resolve_group is not None:
            try:
                members = await self.resolve_group(group_id)
            except Exception:  # a failed lookup grants nothing
                members = []
        self._groups[group_id] = (time.monotonic(), members)
        return members

    async def role_of(self, user_id: str, target: Target | None = None) -> str:
        best = self.config.roles.default
        for role, members in self._role_lists(target).items():
            for member in members:
                hit = member == user_id or member == "*"
                if not hit and member.startswith("S"):
                    hit = user_id in await self._members(member)
                if hit and ROLE_ORDER[role] > ROLE_ORDER[best]:
                    best = role
        return best

    def channel_allows(self, operation: Operation, target: Target | None, channel_id: str) -> bool:
        """Destructive work may be limited to some channels per target."""
        if operation.risk is not Risk.DESTRUCTIVE or target is None or not target.policy.destructive_channels:
            return True
        return channel_id in target.policy.destructive_channels

    async def needs_approval(self, user_id: str, operation: Operation, target: Target | None) -> bool:
        """A second person must approve: listed operations always; any destructive one asked by a non-admin."""
        if operation.risk is not Risk.DESTRUCTIVE:
            return False
        listed = target.policy.require_approval if target and target.policy.require_approval is not None else None
        required = listed if listed is not None else self.config.approvals.required_for
        if operation.name in required or operation.qualified_name in required:
            return True
        return ROLE_ORDER[await self.role_of(user_id, target)] < ROLE_ORDER[APPROVER_ROLE]

    async def can_approve(self, user_id: str, target: Target | None) -> bool:
        return ROLE_ORDER[await self.role_of(user_id, target)] >= ROLE_ORDER[APPROVER_ROLE]

    async def approvers(self, target: Target | None) -> list[str]:
        return [m for m in self._role_lists(target)[APPROVER_ROLE] if m != "*"]

    async def check(self, user_id: str, operation: Operation, target: Target | None) -> Decision:
        role = await self.role_of(user_id, target)
        needed = required_role(operation)
        allowed = ROLE_ORDER[role] >= ROLE_ORDER[needed]
        holders: list[str] = []
        if not allowed:
            for name, members in self._role_lists(target).items():
                if ROLE_ORDER[name] >= ROLE_ORDER[needed]:
                    holders.extend(m for m in members if m != "*")
        return Decision(allowed=allowed, role=role, needed=needed, holders=holders)
