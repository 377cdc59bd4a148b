"""The evaluation section's pages (综合评价): start page, rankings, a subject's page, the cases
behind a number, the centre and hot spots, frozen months and scoring schemes.

The fixed addresses (``/evaluation/centre``, ``/hotspots``, ``/frozen``, ``/schemes``) come
before ``/evaluation/{kind}``, which would otherwise take them."""

from __future__ import annotations

from fastapi import APIRouter

from cityloop.entrypoints.web.routes.evaluation import centre, publish, reports, subject

ROUTERS: list[APIRouter] = [centre.router, publish.router, reports.router, subject.router]
