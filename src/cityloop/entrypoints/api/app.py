"""The web application (the REST API arrives with the API issue; this is its frame)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from cityloop.bootstrap import Container, build


def create_app(container: Container | None = None) -> FastAPI:
    container = container or build()
    app = FastAPI(title="cityloop", docs_url="/api/v1/docs", openapi_url="/api/v1/openapi.json")
    app.state.container = container

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> str:
        return (
            "<!doctype html><html lang='zh-CN'><meta charset='utf-8'>"
            "<title>cityloop 数字城管</title><h1>cityloop 数字化城市管理</h1>"
            "<p><a href='/api/v1/docs'>API 文档 / API documentation</a></p></html>"
        )

    @app.get("/api/v1/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
