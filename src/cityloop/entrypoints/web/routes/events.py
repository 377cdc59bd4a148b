"""Server-sent events: pages hear that a case they may see has changed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from cityloop.domain.roles import Actor, Role
from cityloop.entrypoints.web.context import Page, page
from cityloop.services.ports import CaseNotice

router = APIRouter(include_in_schema=False)
HEARTBEAT_SECONDS = 15.0


def concerns(actor: Actor, notice: CaseNotice) -> bool:
    """Whether ``notice`` is about a case ``actor`` may see (or just stopped seeing)."""
    if not actor.covers_district(notice.district_code):
        return False
    if actor.role is Role.HANDLER:
        # A case leaving the department (returned) has no department any more.
        return notice.department_id in (actor.department_id, None)
    if actor.role is Role.INSPECTOR:
        return notice.assignee_id in (actor.user_id, None)
    if actor.role is Role.CITIZEN:
        return notice.reporter_user_id == actor.user_id
    return True


@router.get("/events")
async def events(request: Request, p: Annotated[Page, Depends(page)]) -> StreamingResponse:
    broker = p.container.broker
    actor = p.actor
    subscription = broker.subscribe(lambda notice: concerns(actor, notice))

    async def stream() -> AsyncIterator[str]:
        try:
            yield "retry: 5000\n\n"
            while True:
                try:
                    notice = await asyncio.wait_for(
                        subscription.queue.get(), timeout=HEARTBEAT_SECONDS
                    )
                except TimeoutError:
                    if await request.is_disconnected():
                        return
                    yield ": keep-alive\n\n"
                    continue
                yield f"event: case\ndata: {json.dumps(asdict(notice), ensure_ascii=False)}\n\n"
        finally:
            subscription.close()

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
