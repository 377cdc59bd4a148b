"""Live notices for pages (server-sent events): in-process fan-out, Redis between workers.

Writers call :meth:`Broker.publish` after a commit, from any thread; each connected page holds
a subscription (an ``asyncio.Queue`` on the server's event loop). With a Redis URL, notices
also travel over Redis pub/sub so that pages served by another worker hear them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from cityloop.services.ports import CaseNotice

log = logging.getLogger(__name__)
CHANNEL = "cityloop:cases"


class Subscription:
    def __init__(
        self, broker: Broker, loop: asyncio.AbstractEventLoop, accepts: Callable[[CaseNotice], bool]
    ) -> None:
        self.broker = broker
        self.loop = loop
        self.accepts = accepts
        self.queue: asyncio.Queue[CaseNotice] = asyncio.Queue(maxsize=1000)

    def offer(self, notice: CaseNotice) -> None:
        if self.accepts(notice):
            self.loop.call_soon_threadsafe(self._put, notice)

    def _put(self, notice: CaseNotice) -> None:
        if self.queue.full():
            return  # a page that stopped reading loses notices, never the server
        self.queue.put_nowait(notice)

    def close(self) -> None:
        self.broker.unsubscribe(self)


class Broker:
    def __init__(self, redis_url: str | None = None) -> None:
        self._lock = threading.Lock()
        self._subs: set[Subscription] = set()
        self._redis: Any = None
        self._redis_url = redis_url
        if redis_url:
            self._start_redis(redis_url)

    def subscribe(self, accepts: Callable[[CaseNotice], bool]) -> Subscription:
        sub = Subscription(self, asyncio.get_running_loop(), accepts)
        with self._lock:
            self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self._subs.discard(sub)

    @property
    def subscribers(self) -> int:
        return len(self._subs)

    def publish(self, notice: CaseNotice) -> None:
        if self._redis is not None:
            try:
                self._redis.publish(CHANNEL, json.dumps(asdict(notice)))
                return  # delivered to every worker, this one included, by the listener
            except Exception:
                log.exception("publishing a notice to Redis failed; delivering locally")
        self._deliver(notice)

    def _deliver(self, notice: CaseNotice) -> None:
        with self._lock:
            subs = list(self._subs)
        for sub in subs:
            sub.offer(notice)

    def _start_redis(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url)
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(CHANNEL)

        def listen() -> None:
            for message in pubsub.listen():
                try:
                    self._deliver(CaseNotice(**json.loads(message["data"])))
                except (ValueError, TypeError):
                    continue

        threading.Thread(target=listen, name="cityloop-redis-notices", daemon=True).start()
