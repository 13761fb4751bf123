"""Server settings, read once from the environment."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./app.db"
#: Seconds a viewer read from the database serves its token again (server.auth.viewer).
DEFAULT_VIEWER_CACHE_TTL = 0.5

#: HS256 keys shorter than the hash (RFC 7518, section 3.2) are refused.
MIN_JWT_SECRET_BYTES = 32

#: An identity provider's key set is fetched over HTTP(S) only.
_HTTP_URL = re.compile(r"https?://[^/?#\s]+(/\S*)?", re.IGNORECASE)

#: What a browser sends as ``Origin``: scheme, host and port, no path (no trailing slash).
_ORIGIN = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#\s]+")


#: ``GRAPHQL_TRUSTED_DOCUMENTS``: any document may run, or only the trusted ones.
TRUSTED_DOCUMENTS_MODES = ("off", "only")


class SettingsError(ValueError):
    """An environment variable has a value the server cannot use."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Every knob of the server; ``Settings.from_env()`` reads the environment.

    Each field is read from the upper-case variable of the same name
    (``database_url`` from ``DATABASE_URL``), except the GraphQL limits, which
    carry the ``GRAPHQL_`` prefix that the contract names. ``CORS_ORIGINS`` is
    a comma-separated list (``https://a.example, https://b.example``, or
    ``*``), read as a tuple of origins; unset or empty, no CORS at all.
    """

    database_url: str = DEFAULT_DATABASE_URL
    graphiql: bool = True
    # GraphiQL keeps its Headers pane (a pasted token) in localStorage only when this is on.
    graphiql_persist_headers: bool = False
    introspection: bool = True
    graphql_max_depth: int = 10
    graphql_max_aliases: int = 30
    graphql_max_tokens: int = 5000
    graphql_max_cost: int = 50_000
    graphql_default_page_size: int = 20
    graphql_max_page_size: int = 100
    graphql_max_filter_terms: int = 10_000
    graphql_max_filter_depth: int = 200
    graphql_max_filter_relations: int = 10
    graphql_max_filter_pattern_length: int = 1024 * 1024
    max_body_bytes: int = 1024 * 1024
    graphql_fast_path: bool = True
    # Apollo's automatic persisted queries (server.persisted): clients may register documents.
    graphql_persisted_queries: bool = True
    # The most documents clients may have registered; past it the oldest are dropped.
    graphql_persisted_queries_max: int = 10_000
    # "only": run nothing but the documents `ftf documents import` trusted; "off": any document.
    graphql_trusted_documents: str = "off"
    db_pool_size: int = 10
    db_max_overflow: int = 10
    db_pool_timeout: float = 10.0
    db_statement_timeout: float | None = 30.0
    db_connect_timeout: float = 5.0
    db_pre_ping_idle: float = 0.5
    debug: bool = False
    log_level: str = "info"
    # Prometheus metrics at /metrics (server.metrics); off: /metrics answers 404.
    metrics: bool = False
    # When set, /metrics answers only `Authorization: Bearer <this>` (a secret, like a password).
    metrics_token: str = ""
    cors_origins: tuple[str, ...] = ()
    # Access tokens (contract section 8). An empty secret: a key generated once
    # and kept in the database (server.auth.keys), the same for every process.
    auth_jwt_secret: str = ""
    auth_jwt_issuer: str = "fast-track-graphql"
    auth_jwt_audience: str = ""
    auth_access_token_ttl: int = 900
    auth_refresh_token_ttl: int = 30 * 24 * 60 * 60
    # An identity provider's key set: its RS256/ES256 access tokens are accepted too.
    auth_jwks_url: str = ""
    # Seconds a signed-in viewer read from the database serves its next requests
    # (server.auth.viewer); the contract allows changes a second to reach every process.
    auth_viewer_cache_ttl: float = DEFAULT_VIEWER_CACHE_TTL

    def __post_init__(self) -> None:
        # The message names the variable, never its value: it may be a secret.
        secret = self.auth_jwt_secret.encode("utf-8", "surrogatepass")
        if secret and len(secret) < MIN_JWT_SECRET_BYTES:
            raise SettingsError(
                f"AUTH_JWT_SECRET must be at least {MIN_JWT_SECRET_BYTES} bytes "
                "(or unset, for a key generated and kept in the database)"
            )
        if not self.auth_jwt_issuer:
            raise SettingsError("AUTH_JWT_ISSUER must not be empty")
        for name in ("auth_access_token_ttl", "auth_refresh_token_ttl"):
            if getattr(self, name) <= 0:
                raise SettingsError(f"{name.upper()} must be a positive number of seconds")
        if self.auth_jwks_url and not _HTTP_URL.fullmatch(self.auth_jwks_url):
            raise SettingsError("AUTH_JWKS_URL must be an http:// or https:// URL")
        if not (self.metrics_token.isascii() and self.metrics_token.isprintable()):
            # Headers arrive as latin-1: a token with other characters could never match.
            raise SettingsError("METRICS_TOKEN must be printable ASCII")
        if self.graphql_persisted_queries_max < 1:
            raise SettingsError("GRAPHQL_PERSISTED_QUERIES_MAX must be at least 1")
        if not 0 <= self.auth_viewer_cache_ttl <= 1:
            raise SettingsError("AUTH_VIEWER_CACHE_TTL must be between 0 and 1 second")
        if self.graphql_trusted_documents not in TRUSTED_DOCUMENTS_MODES:
            raise SettingsError("GRAPHQL_TRUSTED_DOCUMENTS must be off or only")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for spec in fields(cls):
            raw = environ.get(spec.name.upper())
            if raw is None or raw == "":
                continue
            optional = "None" in str(spec.type)  # "float | None": the annotation is a string
            values[spec.name] = _parse(spec.name, raw, spec.default, optional)
        values.update(overrides)
        return cls(**values)


def _parse(name: str, raw: str, default: object, optional: bool) -> object:
    raw = raw.strip()
    try:
        if isinstance(default, tuple):
            items = tuple(part.strip() for part in raw.split(",") if part.strip())
            return _origins(items) if name == "cors_origins" else items
        if isinstance(default, bool):
            lowered = raw.lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float) or default is None:
            # Only a field that admits None reads "off" as None: DB_POOL_TIMEOUT=0 is 0.
            return None if optional and raw.lower() in ("none", "off", "0") else float(raw)
    except ValueError:
        raise SettingsError(f"{name.upper()}={raw!r} is not a valid value") from None
    return raw


def _origins(origins: tuple[str, ...]) -> tuple[str, ...]:
    """Origins as browsers send them (``https://a.example/`` would never match), or ``*`` alone."""
    if "*" in origins and len(origins) > 1:
        raise ValueError(origins)
    for origin in origins:
        if origin != "*" and not _ORIGIN.fullmatch(origin):
            raise ValueError(origin)
    return origins
