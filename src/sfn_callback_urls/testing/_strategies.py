"""Hypothesis strategies for the values this library handles, for your own property tests.

Every strategy draws *valid* values (they pass the models' validation), shrinks towards small
ones, and stays small enough for fast tests:

```python
from hypothesis import given
from sfn_callback_urls.testing import claims

@given(claims())
def test_my_handler_round_trips(c): ...
```

Needs hypothesis: ``pip install 'sfn-callback-urls[testing]'``.
"""

from __future__ import annotations

import base64
import functools
import math
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar, cast

try:
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - exercised without the extra only
    raise ImportError(
        "sfn_callback_urls.testing needs hypothesis: pip install 'sfn-callback-urls[testing]'"
    ) from exc

from pydantic import JsonValue

from .._claims import Claims
from .._contract import MAX_ACTION_NAME_LENGTH, MAX_TOKEN_LENGTH
from .._models import (
    Action,
    CreateUrlsRequest,
    FailureAction,
    HeartbeatAction,
    PostAction,
    ResponseSpec,
    SuccessAction,
)
from .._time import MAX_TIMESTAMP

__all__ = [
    "action_names",
    "actions",
    "claims",
    "create_urls_requests",
    "failure_actions",
    "heartbeat_actions",
    "json_values",
    "post_actions",
    "response_specs",
    "success_actions",
    "task_tokens",
]

_JSON_INT_LIMIT = 2**53
_NAME_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"
_URL_SAFE = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~"
#: Default expirations lie in this window: in the future for decades, within the wire format.
_FAR_EXPIRY_MIN = int(datetime(2100, 1, 1, tzinfo=timezone.utc).timestamp())
_FAR_EXPIRY_MAX = int(datetime(2106, 1, 1, tzinfo=timezone.utc).timestamp())
_NEAR_EXPIRY_MAX = int(timedelta(days=400).total_seconds())
#: Simple, valid JSON Schemas of several dialects and shapes.
_SCHEMAS: tuple[dict[str, JsonValue], ...] = (
    {},
    {"type": "object"},
    {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
    {"type": "object", "properties": {"b": {"type": "array", "minItems": 1}}, "required": ["b"]},
    {"type": "array", "items": {"type": "integer"}},
    {"type": "string", "maxLength": 10},
    {"enum": ["yes", "no"]},
    {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"},
    {"$schema": "http://json-schema.org/draft-07/schema#", "type": ["object", "null"]},
)


_F = TypeVar("_F", bound=Callable[..., Any])


def _shared(factory: _F) -> _F:
    """Build each strategy once: strategies are immutable, and building them is not free."""
    return cast(_F, functools.cache(factory))


def _utc(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, timezone.utc)


@_shared
def json_values(*, max_leaves: int = 16) -> st.SearchStrategy[JsonValue]:
    """Arbitrary JSON: null, booleans, integers within ±2**53, finite floats, text, lists, objects.

    At most ``max_leaves`` scalars in all. Integers stay where every JSON parser reads them
    exactly; floats are never NaN or infinite (JSON has neither).
    """
    scalars: st.SearchStrategy[JsonValue] = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-_JSON_INT_LIMIT, max_value=_JSON_INT_LIMIT),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=32),
    )

    def containers(children: st.SearchStrategy[JsonValue]) -> st.SearchStrategy[JsonValue]:
        return st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(st.text(max_size=12), children, max_size=4),
        )

    return st.recursive(scalars, containers, max_leaves=max_leaves)


@_shared
def action_names() -> st.SearchStrategy[str]:
    """Valid action (and POST outcome) names: 1 to 64 ASCII letters, digits or underscores."""
    return st.text(alphabet=_NAME_ALPHABET, min_size=1, max_size=MAX_ACTION_NAME_LENGTH)


@_shared
def task_tokens() -> st.SearchStrategy[str]:
    """Task tokens: real-shaped ones and arbitrary text.

    Real tokens are standard base64 (``+``, ``/``, ``=``) of about 400 to 540 bytes; the codec
    stores those as raw bytes. The rest are stored as text: uuids (what moto hands out),
    unpadded or URL-safe base64 (near misses of the real shape) and any text of 1 to 2,048
    characters (Step Functions' limit). Long non-ASCII text may not fit in a blob.
    """
    real = st.binary(min_size=400, max_size=540).map(
        lambda raw: base64.b64encode(raw).decode("ascii")
    )
    near_misses = st.binary(min_size=1, max_size=540).map(
        lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
    )
    return st.one_of(
        real,
        st.uuids().map(str),
        near_misses,
        st.text(min_size=1, max_size=MAX_TOKEN_LENGTH),
    )


@_shared
def _http_urls(*, allow_query: bool) -> st.SearchStrategy[str]:
    """Absolute http(s) URLs with a DNS-like host, an optional port and path (and query)."""
    hosts = st.from_regex(r"[a-z][a-z0-9-]{0,15}(\.[a-z]{2,8}){1,2}", fullmatch=True)
    ports = st.one_of(st.just(""), st.integers(min_value=1, max_value=65535).map(":{}".format))
    paths = st.lists(st.text(alphabet=_URL_SAFE, min_size=1, max_size=12), max_size=3).map(
        lambda segments: "".join("/" + segment for segment in segments)
    )
    queries = st.just("")
    if allow_query:
        queries = st.one_of(
            st.just(""),
            st.tuples(action_names(), st.text(alphabet=_URL_SAFE, max_size=12)).map(
                lambda pair: f"?{pair[0]}={pair[1]}"
            ),
        )
    return st.builds(
        "{}://{}{}{}{}".format, st.sampled_from(["http", "https"]), hosts, ports, paths, queries
    )


@_shared
def _response_spec_dicts() -> st.SearchStrategy[dict[str, Any]]:
    redirect = st.fixed_dictionaries({"redirect": _http_urls(allow_query=True)})
    bodies = st.fixed_dictionaries(
        {},
        optional={
            "json": json_values(max_leaves=6),
            "html": st.one_of(st.none(), st.text(max_size=120)),
            "text": st.one_of(st.none(), st.text(max_size=120)),
        },
    )
    return st.one_of(redirect, bodies)


@_shared
def response_specs() -> st.SearchStrategy[ResponseSpec]:
    """Custom responses: a redirect to an http(s) URL, or any of ``json``/``html``/``text``."""
    return _response_spec_dicts().map(ResponseSpec.model_validate)


def _confirm_values(*, comments: bool = False) -> st.SearchStrategy[Any]:
    """An action's ``confirm``: a flag, or a confirm page (with a comment box if ``comments``)."""
    title = st.text(
        st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=40
    ).filter(str.strip)
    details = st.text(
        st.characters(blacklist_categories=("Cc", "Cs"), whitelist_characters="\n\t"),
        max_size=80,
    )
    rules = ["none", "optional", "required"] if comments else ["none"]
    page = st.fixed_dictionaries(
        {"title": title},
        optional={
            "details": details,
            "comment": st.sampled_from(rules),
            "comment_max_length": st.integers(min_value=1, max_value=2000),
        },
    )
    return st.one_of(st.booleans(), page)


def _action_dict(type_: str, **fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Dicts of one action type, with the fields every action shares."""
    return st.fixed_dictionaries(
        {"type": st.just(type_), "name": action_names(), **fields},
        optional={"response": _response_spec_dicts(), "confirm": _confirm_values()},
    )


@_shared
def success_actions() -> st.SearchStrategy[SuccessAction]:
    """Success actions with any JSON output (``null`` included) and an optional response."""
    return _action_dict("success", output=json_values()).map(SuccessAction.model_validate)


@_shared
def failure_actions() -> st.SearchStrategy[FailureAction]:
    """Failure actions with an optional ``error`` (≤ 256 characters) and ``cause``."""
    return st.fixed_dictionaries(
        {"type": st.just("failure"), "name": action_names()},
        optional={
            "error": st.one_of(st.none(), st.text(max_size=256)),
            "cause": st.one_of(st.none(), st.text(max_size=200)),
            "response": _response_spec_dicts(),
            "confirm": _confirm_values(comments=True),
        },
    ).map(FailureAction.model_validate)


@_shared
def heartbeat_actions() -> st.SearchStrategy[HeartbeatAction]:
    """Heartbeat actions (a name, maybe a response)."""
    return _action_dict("heartbeat").map(HeartbeatAction.model_validate)


@_shared
def _json_paths() -> st.SearchStrategy[str]:
    """Simple JSONPaths such as ``$.a``, ``$.b[0]`` or ``$.a.c7[2]``.

    Members are one letter and digits, so they never collide with a JSONPath keyword.
    """
    member = st.tuples(
        st.from_regex(r"[a-z][0-9]{0,2}", fullmatch=True),
        st.one_of(st.just(""), st.integers(min_value=0, max_value=20).map("[{}]".format)),
    ).map("".join)
    return st.lists(member, min_size=1, max_size=3).map(lambda parts: "$." + ".".join(parts))


@_shared
def _schemas() -> st.SearchStrategy[dict[str, JsonValue]]:
    return st.one_of(
        st.sampled_from(_SCHEMAS).map(dict),
        json_values(max_leaves=4).map(lambda value: {"const": value}),
    )


@_shared
def _outcome_dicts() -> st.SearchStrategy[dict[str, Any]]:
    common = {"name": action_names(), "schema": _schemas()}
    optional: dict[str, st.SearchStrategy[Any]] = {"response": _response_spec_dicts()}
    output_sources: list[st.SearchStrategy[dict[str, Any]]] = [
        st.just({}),
        st.fixed_dictionaries({"output": json_values(max_leaves=6)}),
        st.just({"output_body": True}),
        st.fixed_dictionaries({"output_path": _json_paths()}),
    ]
    success = st.tuples(
        st.fixed_dictionaries({"type": st.just("success"), **common}, optional=optional),
        st.one_of(output_sources),
    ).map(lambda pair: {**pair[0], **pair[1]})
    failure = st.fixed_dictionaries(
        {"type": st.just("failure"), **common},
        optional={
            **optional,
            "error": st.text(max_size=40),
            "cause_path": _json_paths(),
        },
    ) | st.fixed_dictionaries(
        {"type": st.just("failure"), **common},
        optional={**optional, "error_path": _json_paths(), "cause": st.text(max_size=80)},
    )
    heartbeat = st.fixed_dictionaries({"type": st.just("heartbeat"), **common}, optional=optional)
    return st.one_of(success, failure, heartbeat)


@_shared
def post_actions() -> st.SearchStrategy[PostAction]:
    """POST actions: 1 to 3 uniquely named outcomes with valid simple JSON Schemas.

    Success outcomes take their output from nothing, a fixed ``output``, the body or an
    ``output_path``; failure outcomes take ``error``/``cause`` fixed or by JSONPath.
    """
    outcomes = st.lists(
        _outcome_dicts(), min_size=1, max_size=3, unique_by=lambda outcome: str(outcome["name"])
    )
    return _action_dict("post", outcomes=outcomes).map(PostAction.model_validate)


@_shared
def actions() -> st.SearchStrategy[Action]:
    """Any action: success, failure, heartbeat or POST."""
    return st.one_of(success_actions(), failure_actions(), heartbeat_actions(), post_actions())


def _timestamp(now: datetime) -> float:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    return now.timestamp()


@st.composite
def _claims(draw: st.DrawFn, now: datetime | None) -> Claims:
    if now is None:
        issued = draw(st.integers(min_value=1, max_value=MAX_TIMESTAMP - 1))
        earliest_expiry = issued + 1
    else:
        moment = _timestamp(now)
        if not 1 <= moment < MAX_TIMESTAMP:
            raise ValueError("now must lie between 1970 and 2106")
        issued = draw(st.integers(min_value=1, max_value=math.floor(moment)))
        earliest_expiry = max(issued + 1, math.ceil(moment))
    expires = draw(st.none() | st.integers(min_value=earliest_expiry, max_value=MAX_TIMESTAMP))
    return Claims(
        token=draw(task_tokens()),
        action=draw(actions()),
        transaction_id=str(draw(st.uuids())),
        issued_at=_utc(issued),
        expires_at=None if expires is None else _utc(expires),
        output_parameters=draw(st.booleans()),
    )


@_shared
def claims(now: datetime | None = None) -> st.SearchStrategy[Claims]:
    """Claims with any token and action, and whole-second UTC times within 1970..2106.

    ``expires_at`` is ``None`` or after ``issued_at``. With ``now``, the claims are live at
    ``now``: issued at or before it and not expired at it.
    """
    if now is not None:
        _timestamp(now)  # fail at once on a naive datetime, not at the first draw
    return _claims(now)


@st.composite
def _create_urls_requests(draw: st.DrawFn, now: datetime | None) -> CreateUrlsRequest:
    data: dict[str, Any] = {
        "token": draw(task_tokens()),
        "actions": draw(
            st.lists(actions(), min_size=1, max_size=4, unique_by=lambda action: action.name)
        ),
    }
    if draw(st.booleans()):
        if now is None:
            expiry = draw(st.integers(min_value=_FAR_EXPIRY_MIN, max_value=_FAR_EXPIRY_MAX))
        else:
            earliest = math.floor(_timestamp(now)) + 1
            latest = min(earliest + _NEAR_EXPIRY_MAX, MAX_TIMESTAMP)
            expiry = draw(st.integers(min_value=earliest, max_value=latest))
        data["expiration"] = _utc(expiry)
    if draw(st.booleans()):
        data["enable_output_parameters"] = draw(st.booleans())
    if draw(st.booleans()):
        data["base_url"] = draw(_http_urls(allow_query=False))
    return CreateUrlsRequest.model_validate(data, context={"now": now} if now else None)


@_shared
def create_urls_requests(now: datetime | None = None) -> st.SearchStrategy[CreateUrlsRequest]:
    """Valid create-URLs requests: a token and 1 to 4 uniquely named actions.

    Maybe also an ``expiration``, ``enable_output_parameters`` and a ``base_url``.
    Expirations are whole seconds: within a year after ``now`` if given, else in 2100..2106
    (in the future for decades, and within what a blob can carry).
    """
    if now is not None:
        _timestamp(now)
    return _create_urls_requests(now)
