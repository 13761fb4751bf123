"""GraphiQL served by the server itself: the page, and the pinned files it loads.

The files of GraphiQL, React and the explorer plugin ship in ``vendor/``
(``script/fetch-graphiql`` fetches them from the npm registry when a pin in
``packages.json`` changes), the page's own script and style in ``assets/``.
So the page works offline and under a strict Content-Security-Policy: no
inline script or style, nothing from another host. The files are served
under ``/graphiql/<version>/<name>``, ``<version>`` being a digest of them
all, so they can be cached for a year.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import secrets
from dataclasses import dataclass
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from server.accept import media_ranges
from server.settings import Settings

HERE = Path(__file__).resolve().parent
#: The page links its files relative to ``/graphql``: ``graphiql/<version>/<name>``.
PREFIX = "graphiql"
IMMUTABLE = "public, max-age=31536000, immutable"
CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}

#: In the order the page loads them (scripts run in document order, ``defer``).
STYLES = ("graphiql.min.css", "graphiql-plugin-explorer.css", "page.css")
SCRIPTS = (
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphiql.min.js",
    "graphiql-plugin-explorer.umd.js",
    "graphiql.js",
)

#: The README's first query ("A GraphiQL session"): what a new tab holds.
DEFAULT_QUERY = """\
# Fast Track GraphQL. Run this query with Ctrl-Enter (or
# the run button): the README's other examples take the
# IDs it returns as variables (the Variables pane, below).
# Docs and Explorer are in the bar on the left.

query SomeIds {
  users(first: 1) { nodes { id name } }
  posts(first: 1) { nodes { id title } }
  roles(where: { name: { eq: "editor" } }) { nodes { id name } }
}
"""

PAGE = """\
<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Fast Track GraphQL</title>
    <link rel="icon" href="data:,">
{styles}
{scripts}
  </head>
  <body>
    <div id="graphiql" data-default-query="{default_query}" \
data-persist-headers="{persist_headers}" data-style-nonce="{nonce}">Loading GraphiQL…</div>
    <noscript>GraphiQL needs JavaScript.</noscript>
  </body>
</html>
"""


def content_security_policy(style_nonce: str) -> str:
    """The page's policy: everything from this origin only, no inline script or style.

    ``data:`` images and fonts are the ones GraphiQL's stylesheet embeds; the
    nonce lets the one ``<style>`` element GraphiQL adds at run time (the scroll
    lock of its dialogs) in.
    """
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            f"style-src 'self' 'nonce-{style_nonce}'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'self'",
        )
    )


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    gzipped: bytes
    content_type: str


@dataclass(frozen=True, slots=True)
class Assets:
    """Every file the page loads, by name, and the version its URLs carry."""

    version: str
    files: dict[str, Asset]


_loaded: Assets | None = None


def load_assets() -> Assets:
    """Read (and gzip) the files once per process; the version is a digest of them all."""
    global _loaded
    if _loaded is None:
        digest = hashlib.sha256()
        files: dict[str, Asset] = {}
        for name in STYLES + SCRIPTS:
            path = HERE / "assets" / name
            if not path.is_file():
                path = HERE / "vendor" / name
            body = path.read_bytes()
            digest.update(name.encode() + b"\0" + body + b"\0")
            files[name] = Asset(body, gzip.compress(body, 6, mtime=0), CONTENT_TYPES[path.suffix])
        _loaded = Assets(digest.hexdigest()[:16], files)
    return _loaded


async def assets() -> Assets:
    """The files, read off the event loop the first time (about 1.6 MB to read and gzip)."""
    return _loaded if _loaded is not None else await run_in_threadpool(load_assets)


def wants_page(request: Request) -> bool:
    """A browser opening the address: ``Accept`` prefers HTML, and no ``fetch()`` made it.

    ``Sec-Fetch-Mode`` is ``navigate`` when a browser loads a page (browsers
    too old to send it are taken at their ``Accept``); a script's request
    asking for HTML still gets the API's answer.
    """
    mode = request.headers.get("sec-fetch-mode")
    return (mode is None or mode == "navigate") and prefers_html(request.headers.get("accept"))


def prefers_html(accept: str | None) -> bool:
    """``text/html`` ranks above every JSON type (and ``*/*``) in ``Accept``."""
    html_q, json_q = 0.0, 0.0
    for media, q in media_ranges(accept):
        if media == "text/html":
            html_q = max(html_q, q)
        elif media in ("application/json", "application/graphql-response+json", "*/*"):
            json_q = max(json_q, q)
    return html_q > json_q


async def page(settings: Settings) -> Response:
    """GraphiQL's page, with its policy; the query of a share link is read by ``graphiql.js``."""
    version = (await assets()).version
    nonce = secrets.token_urlsafe(18)

    def url(name: str) -> str:
        return f"{PREFIX}/{version}/{name}"

    body = PAGE.format(
        styles="\n".join(f'    <link rel="stylesheet" href="{url(n)}">' for n in STYLES),
        scripts="\n".join(f'    <script src="{url(n)}" defer></script>' for n in SCRIPTS),
        default_query=html.escape(DEFAULT_QUERY, quote=True).replace("\n", "&#10;"),
        persist_headers="true" if settings.graphiql_persist_headers else "false",
        nonce=nonce,
    )
    headers = {
        "Content-Security-Policy": content_security_policy(nonce),
        # A nonce is good for one response: never stored, never reused.
        "Cache-Control": "no-store",
        "Vary": "Accept, Sec-Fetch-Mode",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }
    return HTMLResponse(body, headers=headers)


async def asset(request: Request) -> Response:
    """``GET /graphiql/<version>/<name>``: one of the page's files, cached for a year.

    Only the names the page loads are served (nothing is looked up on disk
    from the request), only at the current version, and not at all when
    ``GRAPHIQL=false``.
    """
    settings: Settings = request.app.state.settings
    if not settings.graphiql:
        return Response("Not Found", 404, media_type="text/plain")
    loaded = await assets()
    found = loaded.files.get(request.path_params["name"])
    if request.path_params["version"] != loaded.version or found is None:
        return Response("Not Found", 404, media_type="text/plain")
    headers = {
        "Cache-Control": IMMUTABLE,
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
    }
    if _accepts_gzip(request.headers.get("accept-encoding")):
        headers["Content-Encoding"] = "gzip"
        return Response(found.gzipped, headers=headers, media_type=found.content_type)
    return Response(found.body, headers=headers, media_type=found.content_type)


def _accepts_gzip(accept_encoding: str | None) -> bool:
    return any(coding == "gzip" and q > 0 for coding, q in media_ranges(accept_encoding))
