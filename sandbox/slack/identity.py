"""Who is who in the emulated workspace: team, app and bot ids, and default names from ids.

The bottom of sandbox/slack: the Web API emulator, the signed-request builder and the playground all read it.
"""

from __future__ import annotations

TEAM_ID = "T0TEAM"
TEAM_DOMAIN = "projectops"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
APP_ID = "A0PROJECTOPS"


def name_from_id(slack_id: str) -> str:
    """A readable default name for an id: ``C0OPS`` -> ``ops``, ``U0ADMIN`` -> ``admin``."""
    return slack_id[1:].lstrip("0").lower() or slack_id.lower()


def dm_channel(user_id: str) -> str:
    """The id of `user_id`'s DM with the bot (the app's Messages tab): ``U0ADMIN`` -> ``D0ADMIN``."""
    return "D" + user_id[1:]
