"""Before measuring: both services must answer each workload with the same bytes.

Each viewer's requests are compared with that viewer's header on both sides
(none for anonymous, the admin's ``Authorization`` signed in).

W4 creates a row on each side, so its two answers differ by the new
comment's ID; for it, the IDs are checked to be comment IDs and blanked,
and the rest must match byte for byte.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

import httpx
import orjson

from bench.viewers import Viewer, label
from bench.workloads import Params, Workload

TIMEOUT = 60.0


class Mismatch(AssertionError):
    """The floor does not answer what our server answers: the comparison would be unfair."""


def fetch(
    client: httpx.Client, url: str, body: bytes, headers: Mapping[str, str] | None = None
) -> bytes:
    response = client.post(
        url, content=body, headers={"Content-Type": "application/json", **(headers or {})}
    )
    if response.status_code != 200:
        raise Mismatch(f"{url} answered {response.status_code}: {response.text[:500]}")
    return response.content


def _blank_comment_ids(raw: bytes, side: str) -> bytes:
    data: Any = orjson.loads(raw)
    try:
        comment = data["data"]["createComment"]
        type_name, _, key = base64.b64decode(comment["id"], validate=True).decode().partition(":")
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise Mismatch(f"{side}: W4 did not create a comment: {raw[:500]!r}") from exc
    if type_name != "Comment" or not key.isdigit():
        raise Mismatch(f"{side}: W4 answered {comment['id']!r}, not a comment's ID")
    comment["id"] = "<id>"
    return orjson.dumps(data)


def _first_difference(ours: bytes, floor: bytes) -> str:
    at = next(
        (i for i, (a, b) in enumerate(zip(ours, floor, strict=False)) if a != b),
        min(len(ours), len(floor)),
    )
    start = max(0, at - 80)
    return (
        f"first difference at byte {at} (lengths {len(ours)} and {len(floor)}):\n"
        f"  ours:  {ours[start : at + 80]!r}\n"
        f"  floor: {floor[start : at + 80]!r}"
    )


def check(
    workloads: list[Workload],
    params: Params,
    server_url: str,
    floor_url: str,
    viewer: Viewer = "anonymous",
    headers: Mapping[str, str] | None = None,
) -> dict[str, int]:
    """Compare each workload's answers to ``viewer`` (who sends ``headers``).

    Returns the response size in bytes of each workload.

    Raises:
        Mismatch: a workload whose answers differ, or an answer with GraphQL errors.
    """
    sizes: dict[str, int] = {}
    with httpx.Client(timeout=TIMEOUT) as client:
        for workload in workloads:
            name = label(workload.name, viewer)
            body = workload.body(params)
            ours = fetch(client, f"{server_url}/graphql", body, headers)
            floor = fetch(client, floor_url + workload.floor_path(params), body, headers)
            if b'"errors"' in ours:
                raise Mismatch(f"{name}: our server answered errors: {ours[:1000]!r}")
            if workload.writes:
                ours, floor = _blank_comment_ids(ours, "ours"), _blank_comment_ids(floor, "floor")
            if ours != floor:
                raise Mismatch(f"{name}: " + _first_difference(ours, floor))
            sizes[workload.name] = len(ours)
    return sizes
