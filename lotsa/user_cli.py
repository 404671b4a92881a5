"""`lotsa user disable NAME` and `lotsa user enable NAME`: the Staff page's switches for automation.

Run beside a serving Lotsa: the account's sessions are deleted here, and the server's console
sockets notice on their next heartbeat (a second or so) and close; its conversations are back in
their queue, first in line, at once. Audited as done by "cli"."""
from __future__ import annotations

import asyncio
import sys

from lotsa.settings import Settings


def run(settings: Settings, action: str, name: str) -> int:
    from handoff import staff_accounts
    from lotsa.db import Database
    from lotsa.errors import Refused
    from lotsa.services import build_conversations

    async def go() -> str:
        db = Database(settings.effective_database_url)
        try:
            async with db.read() as session:
                user = await staff_accounts.find(session, name)
            if user is None:
                raise Refused("not_found", f"no account named {name!r}")
            conversations = build_conversations(settings, db)
            if action == "disable":
                back = await staff_accounts.disable(conversations, "cli", user.id)
                return f"disabled {name}: sessions ended, {len(back)} conversation(s) back in the queue"
            await staff_accounts.enable(conversations, "cli", user.id)
            return f"enabled {name}"
        finally:
            await db.close()

    try:
        print(asyncio.run(go()))
    except Refused as e:
        print(f"lotsa user {action}: {e.message or e.code}", file=sys.stderr)
        return 2
    return 0
