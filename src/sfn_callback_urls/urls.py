"""Minting callback URLs, and reading them back.

A callback URL is ``{base_url}/respond?action=NAME&type=TYPE&data=BLOB``. ``action`` and
``type`` are there for people reading the URL; they are checked against the sealed action and
never trusted on their own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from pydantic_core import PydanticCustomError

from .claims import Claims, new_transaction_id, utcnow
from .codec import MAX_BLOB_LENGTH, Codec
from .errors import (
    ActionMismatched,
    ConfigurationError,
    InvalidDate,
    InvalidPayload,
    PayloadTooLarge,
)
from .models import Action, CreateUrlsRequest, CreateUrlsResponse, parse_create_urls_request
from .models import _check_base_url as _check_model_base_url

__all__ = [
    "CALLBACK_PATH",
    "MAX_QUERY_LENGTH",
    "QUERY_ACTION",
    "QUERY_DATA",
    "QUERY_TYPE",
    "CallbackQuery",
    "Minter",
    "OpenedCallback",
    "callback_url",
    "check_query_matches",
    "open_callback",
]

#: Path appended to the base URL.
CALLBACK_PATH = "/respond"
#: Query parameter holding the action name (for humans; checked against the blob).
QUERY_ACTION = "action"
#: Query parameter holding the action type (for humans; checked against the blob).
QUERY_TYPE = "type"
#: Query parameter holding the sealed blob.
QUERY_DATA = "data"
#: Longest query string accepted: a maximal blob plus room for output parameters.
MAX_QUERY_LENGTH = MAX_BLOB_LENGTH + 2048
_MAX_QUERY_FIELDS = 64


def _check_base_url(base_url: str) -> str:
    # The same rule as a request's ``base_url`` field, raised as a configuration error here.
    try:
        _check_model_base_url(base_url)
    except PydanticCustomError as error:
        raise ConfigurationError(f"The base URL: {error.message()}.") from None
    return base_url.rstrip("/")


def _url(base: str, action: Action, blob: str) -> str:
    query = urlencode({QUERY_ACTION: action.name, QUERY_TYPE: action.type, QUERY_DATA: blob})
    return f"{base}{CALLBACK_PATH}?{query}"


def callback_url(base_url: str, action: Action, blob: str) -> str:
    """The callback URL for ``action`` sealed as ``blob`` under ``base_url``."""
    return _url(_check_base_url(base_url), action, blob)


class Minter:
    """Mints callback URLs: one per action, all sharing one transaction id.

    Args:
        codec: seals the claims (its keyring's primary key mints).
        base_url: where your callback handler is reachable, e.g.
            ``https://abc123.execute-api.us-east-1.amazonaws.com/prod``; ``/respond`` is
            appended. A request's own ``base_url`` takes precedence.
    """

    __slots__ = ("base_url", "codec")

    def __init__(self, codec: Codec, base_url: str | None = None) -> None:
        self.codec = codec
        """Seals the claims; its keyring's primary key mints."""
        self.base_url = None if base_url is None else _check_base_url(base_url)
        """The default base URL (trailing ``/`` removed), or ``None``."""

    def mint(
        self,
        token: str,
        actions: Sequence[Action],
        *,
        expires_at: datetime | None = None,
        expires_in: timedelta | None = None,
        enable_output_parameters: bool = False,
        base_url: str | None = None,
        now: datetime | None = None,
    ) -> CreateUrlsResponse:
        """One URL per action for ``token``.

        Args:
            token: the task token Step Functions handed out.
            actions: the possible outcomes; names must be unique.
            expires_at: an absolute, timezone-aware expiry; or give ``expires_in``.
            expires_in: expiry relative to ``now``.
            enable_output_parameters: let query parameters fill ``$templates`` in the output
                (the handler must allow it too).
            base_url: overrides the minter's base URL.
            now: the issue time (default: the wall clock).

        Raises:
            InvalidRequest: the actions or expiry are invalid (as for `create_urls()`).
        """
        now = utcnow() if now is None else now
        if expires_at is not None and expires_in is not None:
            raise InvalidDate("Give expires_at or expires_in, not both.")
        if expires_in is not None:
            expires_at = now + expires_in
        payload: dict[str, Any] = {
            "token": token,
            "actions": list(actions),
            "enable_output_parameters": enable_output_parameters,
        }
        if expires_at is not None:
            payload["expiration"] = expires_at
        if base_url is not None:
            payload["base_url"] = base_url
        return self.create_urls(payload, now=now)

    def create_urls(
        self,
        request: CreateUrlsRequest | Mapping[str, Any] | str | bytes,
        *,
        now: datetime | None = None,
    ) -> CreateUrlsResponse:
        """The original app's create-URLs call: a request (model, dict or JSON) to a response.

        Raises:
            InvalidRequest: (or a subclass) naming the offending field.
            ConfigurationError: no base URL is known.
        """
        now = utcnow() if now is None else now
        if not isinstance(request, CreateUrlsRequest):
            request = parse_create_urls_request(request, now=now)
        elif request.expiration is not None and request.expiration <= now:
            raise InvalidDate("expiration: must lie in the future")
        # Both were checked already: the request's by its model, the minter's by __init__.
        base_url = request.base_url.rstrip("/") if request.base_url else self.base_url
        if base_url is None:
            raise ConfigurationError("No base URL: pass base_url to the Minter or the request.")
        transaction_id = new_transaction_id()
        urls = {}
        for action in request.actions:
            claims = Claims(
                token=request.token,
                action=action,
                transaction_id=transaction_id,
                issued_at=now,
                expires_at=request.expiration,
                output_parameters=request.enable_output_parameters,
            )
            urls[action.name] = _url(base_url, action, self.codec.seal(claims))
        return CreateUrlsResponse(
            transaction_id=transaction_id, urls=urls, expiration=request.expiration
        )


_WHOLE_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://|/")


def _is_text(value: object) -> bool:
    """Whether ``value`` is a string that encodes as UTF-8 (no lone surrogates)."""
    if not isinstance(value, str):
        return False
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _query_string(text: str) -> str:
    """The query string of a whole URL, or ``text`` itself: it is a query string already."""
    if _WHOLE_URL.match(text):
        try:  # as urllib reads it (it also drops tabs and line breaks, as browsers do)
            return urlsplit(text).query
        except ValueError:  # e.g. an unclosed IPv6 bracket
            raise InvalidPayload("The callback URL is not a valid URL.") from None
    return text


@dataclass(frozen=True)
class CallbackQuery:
    """The parts of a callback URL's query string, not yet verified.

    Attributes:
        data: the blob.
        action: the ``action`` parameter, if present.
        type: the ``type`` parameter, if present.
        params: every parameter except ``data`` (the output parameters' namespace).
    """

    data: str = field(repr=False)
    action: str | None = None
    type: str | None = None
    params: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, url_or_query: str | Mapping[str, str]) -> CallbackQuery:
        """Read a full URL, a bare query string, or an already-parsed mapping.

        Only a whole URL (``scheme://...``, or a path starting with ``/``) is cut at its first
        ``?`` (and its ``#``); any other string is a query string and read whole, as the front
        end that delivered it read it: in ``...&note=why?`` the ``?`` is part of a value,
        ``data=X?&data=BLOB`` holds two ``data`` parameters (refused), never just the second,
        and in ``?data=BLOB`` the first parameter is named ``?data``.

        Raises:
            PayloadTooLarge: the query string (or mapping) is implausibly long.
            InvalidPayload: there is no single ``data`` parameter, more than 64 parameters, or a
                name or value that is not text (a lone surrogate in a mapping).
        """
        if isinstance(url_or_query, str):
            query = _query_string(url_or_query)
            if len(query) > MAX_QUERY_LENGTH:
                raise PayloadTooLarge
            try:
                pairs = parse_qsl(
                    query,
                    keep_blank_values=True,
                    strict_parsing=False,
                    max_num_fields=_MAX_QUERY_FIELDS,
                )
            except ValueError:
                raise InvalidPayload from None
        else:
            pairs = list(url_or_query.items())
            # Parameters an adapter parsed already get the caps of the raw query string,
            # measured as the unescaped ``name=value&...`` they would make.
            length = sum(len(str(name)) + len(str(value)) + 2 for name, value in pairs) - 1
            if length > MAX_QUERY_LENGTH:
                raise PayloadTooLarge
            if len(pairs) > _MAX_QUERY_FIELDS:
                raise InvalidPayload
        values: dict[str, str] = {}
        for name, value in pairs:
            if not _is_text(name) or not _is_text(value):
                # A decoded URL is UTF-8 text; a pre-parsed mapping might not be (a lone
                # surrogate), and output parameters cannot be encoded from it.
                raise InvalidPayload("The callback URL's query is not valid Unicode text.")
            if name in values and name in (QUERY_DATA, QUERY_ACTION, QUERY_TYPE):
                raise InvalidPayload  # two blobs or two names: refuse to guess
            values.setdefault(name, value)
        data = values.pop(QUERY_DATA, None)
        if not data:
            raise InvalidPayload("The callback URL has no data parameter.")
        return cls(
            data=data,
            action=values.get(QUERY_ACTION),
            type=values.get(QUERY_TYPE),
            params=values,
        )


@dataclass(frozen=True)
class OpenedCallback:
    """A verified callback: the sealed claims and the query's other parameters."""

    claims: Claims
    """The verified claims of the blob."""
    params: Mapping[str, str]
    """Every query parameter except ``data`` (the output parameters' namespace)."""


def open_callback(
    codec: Codec,
    url_or_query: str | Mapping[str, str] | CallbackQuery,
    *,
    now: datetime | None = None,
) -> OpenedCallback:
    """Verify a callback URL (or its query) and check its ``action``/``type`` against the blob.

    Raises:
        InvalidPayload, ExpiredPayload, PayloadTooLarge: see `Codec.open()`.
        ActionMismatched: ``action`` or ``type`` is present and differs from the sealed one.
    """
    query = (
        url_or_query
        if isinstance(url_or_query, CallbackQuery)
        else (CallbackQuery.parse(url_or_query))
    )
    claims = codec.open(query.data, now=now)
    check_query_matches(query, claims)
    return OpenedCallback(claims=claims, params=query.params)


def check_query_matches(query: CallbackQuery, claims: Claims) -> None:
    """Raise `ActionMismatched` if the query names another action or type than the blob.

    ``action`` and ``type`` are optional in the query; when present they must match.
    """
    action = claims.action
    if (query.action is not None and query.action != action.name) or (
        query.type is not None and query.type != action.type
    ):
        raise ActionMismatched
