"""The supervisor's one click during a surge: hold the acute lane for conversations that passed a
second question (lotsa.flood, lotsa.pipeline), or release it."""
from __future__ import annotations

import logging

from aiohttp import web

from handoff.console import SUPERVISORS, _json_body, require_staff
from lotsa import appkeys, audit
from lotsa.errors import Refused
from lotsa.events import QUEUE_TOPIC, Event

log = logging.getLogger(__name__)


async def api_acute_hold(request: web.Request) -> web.Response:
    _, user = await require_staff(request, state_changing=True, roles=SUPERVISORS)
    hold = (await _json_body(request)).get("hold")
    if not isinstance(hold, bool):
        raise Refused("bad_hold", "hold is true or false.", 400)
    pipeline = request.app[appkeys.PIPELINE]
    was = pipeline.flood.acute_held
    released = await pipeline.hold_acute(hold)
    await audit.record(request.app[appkeys.DB], user, "surge.acute_hold", "acute-lane",
                       held=f"{'yes' if was else 'no'} → {'yes' if hold else 'no'}", released=released or None)
    log.info("acute lane held" if hold else "acute lane released", extra={"staff": user.id})
    request.app[appkeys.EVENTS].publish(QUEUE_TOPIC, Event("presence", 0, {}))   # supervisors' frames show it
    return web.json_response({"held": hold, "released": released})


def setup(app: web.Application) -> None:
    app.router.add_post("/api/console/acute-hold", api_acute_hold)
