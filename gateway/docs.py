"""The API's documentation: Swagger UI at /api/docs and the OpenAPI document
at /api/openapi.json, for anyone on the platform host (the bare base domain)
and for an integrator's staff on its host; a client or a visitor there gets a
404 (`deps.DocsReaderDep`).

Swagger UI runs under a CSP that allows exactly what it needs: its bundle and
stylesheet from jsDelivr, our own init script (no inline script), inline
styles and data: images (Swagger UI uses both)."""

from __future__ import annotations

import html
import json

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from gateway.deps import DocsReaderDep

OPENAPI_PATH = "/api/openapi.json"
# What the platform host serves of these (TenantMiddleware's platform paths).
PATHS = ("/api/docs", "/api/docs/init.js", OPENAPI_PATH)

SWAGGER_UI = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5"
DOCS_CSP = (
    "default-src 'self'; "
    "script-src 'self' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)

router = APIRouter(include_in_schema=False)


@router.get(OPENAPI_PATH, name="openapi")
async def openapi_document(request: Request, _reader: DocsReaderDep) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@router.get("/api/docs")
async def swagger_ui(request: Request, _reader: DocsReaderDep) -> HTMLResponse:
    title = html.escape(f"{request.app.title} docs")
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title>"
        '<link rel="icon" href="data:,">'
        f'<link rel="stylesheet" href="{SWAGGER_UI}/swagger-ui.css">'
        '</head><body><div id="swagger-ui"></div>'
        f'<script src="{SWAGGER_UI}/swagger-ui-bundle.js"></script>'
        f'<script src="{request.app.url_path_for("swagger_init")}"></script>'
        "</body></html>"
    )
    return HTMLResponse(page, headers={"Content-Security-Policy": DOCS_CSP})


@router.get("/api/docs/init.js", name="swagger_init")
async def swagger_init(request: Request, _reader: DocsReaderDep) -> Response:
    config = {
        "url": request.app.url_path_for("openapi"),
        "dom_id": "#swagger-ui",
        "layout": "BaseLayout",
        "deepLinking": True,
        "validatorUrl": None,  # no calls to swagger.io
    }
    script = (
        f"window.ui = SwaggerUIBundle(Object.assign({json.dumps(config)}, "
        "{presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset]}));\n"
    )
    return Response(script, media_type="text/javascript")
