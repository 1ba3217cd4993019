"""The HTML encoding of OGC API – Features pages: plain, escaped, with the JSON one link away."""

from __future__ import annotations

from html import escape
from typing import Any

import orjson
from fastapi.responses import HTMLResponse

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .5rem;"
    "text-align:left;vertical-align:top}code{font-size:.85em}"
)


def _link_list(links: list[dict[str, Any]]) -> str:
    items = "".join(
        f'<li><a href="{escape(link["href"])}">{escape(link.get("title") or link["rel"])}</a>'
        f" <small>({escape(link['rel'])}, {escape(link.get('type', ''))})</small></li>"
        for link in links
    )
    return f"<ul>{items}</ul>"


def _properties(props: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><th>{escape(str(k))}</th><td>{escape('' if v is None else str(v))}</td></tr>"
        for k, v in props.items()
    )
    return f"<table>{rows}</table>"


def _body(kind: str, doc: dict[str, Any]) -> tuple[str, str]:
    if kind == "landing":
        return doc["title"], f"<p>{escape(doc['description'])}</p>" + _link_list(doc["links"])
    if kind == "conformance":
        items = "".join(f"<li><code>{escape(c)}</code></li>" for c in doc["conformsTo"])
        return "Conformance", f"<ul>{items}</ul>"
    if kind == "collections":
        rows = "".join(
            f'<tr><td><a href="{escape(c["links"][1]["href"])}">{escape(c["id"])}</a></td>'
            f"<td>{escape(c['title'])}</td><td>{escape(c['description'])}</td></tr>"
            for c in doc["collections"]
        )
        return (
            "Collections",
            f"<table><tr><th>id</th><th>title</th><th>about</th></tr>{rows}</table>",
        )
    if kind == "collection":
        return doc["title"], f"<p>{escape(doc['description'])}</p>" + _link_list(doc["links"])
    if kind == "items":
        rows = "".join(
            f"<tr><td>{escape(str(f['id']))}</td><td>{_properties(f['properties'])}</td></tr>"
            for f in doc["features"]
        )
        head = f"<p>{doc['numberReturned']} of {doc['numberMatched']} features</p>"
        return doc["title"], head + _link_list(doc["links"]) + f"<table>{rows}</table>"
    geometry = orjson.dumps(doc.get("geometry")).decode()
    body = _properties(doc["properties"]) + f"<h2>Geometry</h2><pre>{escape(geometry)}</pre>"
    return f"Feature {doc['id']}", body + _link_list(doc["links"])


def page(kind: str, doc: dict[str, Any]) -> HTMLResponse:
    """One page of the HTML encoding."""
    title, body = _body(kind, doc)
    return HTMLResponse(
        f"<!doctype html><html lang='vi'><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{escape(title)}</h1>{body}</body></html>"
    )
