"""The screen's HTML pages (``/ui``) and their static files (``/ui/static``), nothing from a CDN.

Pages are shells: their scripts log in through ``POST /api/v1/auth/token``, keep the token in
``sessionStorage`` and read everything through the JSON APIs, which check role and scope.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from ioc import __version__

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(prefix="/ui", include_in_schema=False)

# Tried before the routers (``ioc.app.MOUNTS``): vendored MapLibre GL, ECharts and our scripts.
static = Mount("/ui/static", app=StaticFiles(directory=HERE / "static"), name="ui-static")

PAGES = {
    "ops": "ops.html",
    "brief": "brief.html",
    "citizen": "citizen.html",
    "queue": "queue.html",
    "indicators": "indicators.html",
    "dossiers": "dossiers.html",
}


def _render(request: Request, template: str, **extra: object) -> HTMLResponse:
    settings = request.app.state.settings
    context = {
        "version": __version__,
        "basemap_url": getattr(settings, "web_basemap_url", ""),
        **extra,
    }
    return templates.TemplateResponse(request, template, context)


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/ui/ops")


@router.get("/login")
def login(request: Request) -> HTMLResponse:
    return _render(request, "login.html")


@router.get("/light/{light_id:path}")
def light(request: Request, light_id: str) -> HTMLResponse:
    return _render(request, "light.html", light_id=light_id)


@router.get("/{page}")
def page(request: Request, page: str) -> HTMLResponse:
    template = PAGES.get(page)
    if template is None:
        return _render(request, "notfound.html")
    return _render(request, template)
