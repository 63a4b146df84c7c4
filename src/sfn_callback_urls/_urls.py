"""Minting callback URLs, and reading them back.

A callback URL is ``{base_url}/respond?action=NAME&type=TYPE&data=BLOB``. ``action`` and
``type`` are there for people reading the URL; they are checked against the sealed action and
never trusted on their own.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit

from pydantic_core import PydanticCustomError

from ._claims import Claims, is_transaction_id, new_transaction_id
from ._codec import Codec
from ._contract import (
    CALLBACK_PATH,
    MAX_QUERY_FIELDS,
    MAX_QUERY_LENGTH,
    MAX_TOKEN_LENGTH,
    QUERY_ACTION,
    QUERY_DATA,
    QUERY_TYPE,
    is_unicode_text,
)
from ._http_url import checked_http_url
from ._logging import LoggerLike, emit, enabled_check, get_logger
from ._models import (
    ACTION_CLASSES,
    Action,
    CreateUrlsRequest,
    CreateUrlsResponse,
    future_expiration,
    unique_names,
)
from ._response_writer import trusted_response
from ._time import checked_now, format_utc, wire_time
from ._validation import parse_create_urls_request
from .errors import (
    ActionMismatched,
    ConfigurationError,
    InvalidDate,
    InvalidPayload,
    PayloadTooLarge,
)

_PLAIN_BLOB = re.compile(r"[A-Za-z0-9_-]+")

MINT_LOGGER_NAME = "sfn_callback_urls.mint"
"""The logger of the one record per mint."""

_ACTION_CLASSES = tuple(ACTION_CLASSES.values())

__all__ = [
    "MINT_LOGGER_NAME",
    "BlobOpener",
    "CallbackQuery",
    "Minter",
    "OpenedCallback",
    "callback_url",
    "check_query_matches",
    "no_base_url",
    "open_callback",
]


def _url_base(base_url: str) -> str:
    """A base URL as callback URLs start with it: the request field's rule, no "/" last.

    Raises:
        ValueError: what is wrong with it, completing "the URL ...".
    """
    return checked_http_url(base_url, allow_query=False).rstrip("/")


def _check_base_url(base_url: str) -> str:
    """`_url_base`, or a configuration error: the minter's default is the deployment's."""
    try:
        return _url_base(base_url)
    except ValueError as exc:
        raise ConfigurationError(f"The base URL {exc}.") from None


def no_base_url(how_to_set_one: str) -> ConfigurationError:
    """The error of a mint with no base URL; ``how_to_set_one`` is the caller's own advice."""
    return ConfigurationError(f"No base URL: {how_to_set_one}, or give base_url in the request.")


def _url(base: str, action: Action, blob: str) -> str:
    # No quoting needed: names are [A-Za-z0-9_], types are words, blobs are URL-safe base64.
    query = f"{QUERY_ACTION}={action.name}&{QUERY_TYPE}={action.type}&{QUERY_DATA}={blob}"
    return f"{base}{CALLBACK_PATH}?{query}"


def callback_url(base_url: str, action: Action, blob: str) -> str:
    """The callback URL for ``action`` sealed as ``blob`` under ``base_url``.

    ``blob`` is quoted if it needs it (ours never do: they are URL-safe base64).
    """
    base = _check_base_url(base_url)
    if not _PLAIN_BLOB.fullmatch(blob):
        query = urlencode({QUERY_ACTION: action.name, QUERY_TYPE: action.type, QUERY_DATA: blob})
        return f"{base}{CALLBACK_PATH}?{query}"
    return _url(base, action, blob)


def _plain_actions(actions: object) -> list[Action] | None:
    """The actions if they are models with unique names (at least one), else ``None``."""
    if not isinstance(actions, (list, tuple)) or not actions:
        return None
    for action in actions:
        # type() first: pydantic's metaclass makes isinstance() slow, and this runs per mint.
        if type(action) not in _ACTION_CLASSES and not isinstance(action, _ACTION_CLASSES):
            return None
    try:
        unique_names(actions, "action")  # the request's rule
    except PydanticCustomError:
        return None  # the model refuses them the same way, and words it
    return list(actions)


class Minter:
    """Mints callback URLs: one per action, all sharing one transaction id.

    Each mint logs one INFO record on the ``sfn_callback_urls.mint`` logger: the transaction id,
    the action names and types, the expiry (never the token or a URL).

    Args:
        codec: seals the claims (its keyring's primary key mints).
        base_url: where your callback handler is reachable, e.g.
            ``https://abc123.execute-api.us-east-1.amazonaws.com/prod``; ``/respond`` is
            appended. A request's own ``base_url`` takes precedence.
        logger: where the mint records go (a ``logging.Logger``, a Powertools ``Logger``...).
    """

    __slots__ = ("_base_url", "_enabled", "_logger", "codec")

    def __init__(
        self, codec: Codec, base_url: str | None = None, *, logger: LoggerLike | None = None
    ) -> None:
        self.codec = codec
        """Seals the claims; its keyring's primary key mints."""
        self._base_url = None if base_url is None else _check_base_url(base_url)
        self._logger = get_logger(MINT_LOGGER_NAME, logger)
        self._enabled = enabled_check(self._logger)

    @property
    def base_url(self) -> str | None:
        """The default base URL, checked, in ASCII, trailing ``/`` removed; or ``None``."""
        return self._base_url

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
            InvalidRequest: the token, actions, expiry or ``base_url`` are invalid (as for
                `create_urls()`, whose request has these fields).
            ConfigurationError: no base URL is known.
            ValueError: ``now`` is not timezone-aware.
        """
        now = checked_now(now)
        if expires_at is not None and expires_in is not None:
            raise InvalidDate("Give expires_at or expires_in, not both.")
        if expires_in is not None:
            if not isinstance(expires_in, timedelta):
                raise InvalidDate("expires_in must be a timedelta.")
            try:
                expires_at = now + expires_in
            except OverflowError:
                raise InvalidDate("expires_in takes the expiry out of range.") from None
        minted = self._mint_checked_directly(
            token, actions, expires_at, enable_output_parameters, base_url, now
        )
        if minted is not None:
            return minted
        payload: dict[str, Any] = {
            "token": token,
            "actions": list(actions) if isinstance(actions, (list, tuple)) else actions,
            "enable_output_parameters": enable_output_parameters,
        }
        if expires_at is not None:
            payload["expiration"] = expires_at
        if base_url is not None:
            payload["base_url"] = base_url
        return self.create_urls(payload, now=now)

    def _mint_checked_directly(
        self,
        token: object,
        actions: object,
        expires_at: object,
        output_parameters: object,
        base_url: object,
        now: datetime,
    ) -> CreateUrlsResponse | None:
        """The common case minted at once, or ``None``: then the request model validates.

        Typed arguments (model actions, a str token, a datetime, a str base URL) are checked
        here by the request model's own rules, called directly: `unique_names`,
        `future_expiration`, ``checked_http_url``, the token's length and text rule. Building
        the model would make a one-URL mint two thirds slower (~50 µs against ~30). Other
        forms (dict actions, text dates, the original's base URL object), and whatever a rule
        refuses, go to the model: it accepts them or words the error as create_urls() does.
        """
        actions_ok = _plain_actions(actions)
        if (
            actions_ok is None
            or type(token) is not str
            or not 1 <= len(token) <= MAX_TOKEN_LENGTH
            or not is_unicode_text(token)  # the model's text rule (_check_json_text)
            or type(output_parameters) is not bool
        ):
            return None
        expiration = None
        if expires_at is not None:
            if not isinstance(expires_at, datetime):
                return None
            try:
                expiration = future_expiration(expires_at, now)
            except PydanticCustomError:
                return None
        base = self._base_url
        if base_url is not None:
            if not isinstance(base_url, str):
                return None  # e.g. the original's {"api_id", "stage"} object
            try:
                base = _url_base(base_url)
            except ValueError:
                return None
        return self._mint(token, actions_ok, expiration, output_parameters, base, now)

    def create_urls(
        self,
        request: CreateUrlsRequest | Mapping[str, Any] | str | bytes,
        *,
        now: datetime | None = None,
        transaction_id: str | None = None,
    ) -> CreateUrlsResponse:
        """The original app's create-URLs call: a request (model, dict or JSON) to a response.

        A dict or JSON is read by `parse_create_urls_request()` (the JSON contract's rules).

        Args:
            request: the request.
            now: the issue time (default: the wall clock).
            transaction_id: the id to mint under (a canonical UUID), when the caller needs it
                before the request is validated, e.g. for its error answers; a fresh one by
                default.

        Raises:
            InvalidRequest: (or a subclass) naming the offending field.
            ConfigurationError: no base URL is known.
            ValueError: ``transaction_id`` is not a canonical UUID string.
        """
        if transaction_id is not None and not is_transaction_id(transaction_id):
            raise ValueError("transaction_id must be a UUID in its canonical form")
        now = checked_now(now)
        if not isinstance(request, CreateUrlsRequest):
            request = parse_create_urls_request(request, now=now)
        elif request.expiration is not None and request.expiration <= now:
            raise InvalidDate("expiration: must lie in the future")
        # Both were checked already: the request's by its model, the minter's by __init__.
        base = request.base_url.rstrip("/") if request.base_url else self._base_url
        return self._mint(
            request.token,
            request.actions,
            request.expiration,
            request.enable_output_parameters,
            base,
            now,
            transaction_id,
        )

    def _mint(
        self,
        token: str,
        actions: Sequence[Action],
        expiration: datetime | None,
        output_parameters: bool,
        base: str | None,
        now: datetime,
        transaction_id: str | None = None,
    ) -> CreateUrlsResponse:
        if base is None:
            raise no_base_url("pass base_url to the Minter")
        if transaction_id is None:
            transaction_id = new_transaction_id()
        blobs = self.codec.seal_actions(
            token,
            actions,
            transaction_id=transaction_id,
            issued_at=now,
            expires_at=expiration,
            output_parameters=output_parameters,
        )
        urls = {
            action.name: _url(base, action, blob)
            for action, blob in zip(actions, blobs, strict=True)
        }
        if self._enabled(logging.INFO):
            names = [action.name for action in actions]
            fields = {
                "event": "mint",
                "transaction_id": transaction_id,
                "actions": names,
                "types": [action.type for action in actions],
                # As sealed: whole seconds (sealing checked the range).
                "expires_at": None
                if expiration is None
                else format_utc(wire_time("expires_at", expiration)),
                "output_parameters": output_parameters,
            }
            message = f"minted {len(names)} callback URL(s) ({', '.join(names)}) {transaction_id}"
            emit(self._logger, logging.INFO, message, fields)
        # Every value was made or checked here: no need to validate them once more.
        return trusted_response(transaction_id, urls, expiration)


#: A whole URL rather than a query string: a scheme and ``//``. Nothing else: a query string
#: may start with "/", "?", "#" or "//" (a server passes on whatever follows the first "?"), and
#: read as a URL, ``/?data=A#&data=B`` would hide the second ``data`` in a fragment.
_WHOLE_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
#: The ASCII characters urlsplit passes through as they are: not "#" (a fragment), "[" or "]"
#: (IPv6 hosts), nor a space, a control character (it strips some) or DEL.
_URL_PLAIN = bytes(c for c in range(0x21, 0x7F) if c not in b"#[]")


#: The parameters a callback URL may hold once: a second one is refused, never guessed at.
_SINGLE_PARAMETERS = frozenset((QUERY_DATA, QUERY_ACTION, QUERY_TYPE))
_new_object = object.__new__


def _is_text(value: object) -> bool:
    """Whether ``value`` is a string that encodes as UTF-8 (no lone surrogates)."""
    return isinstance(value, str) and is_unicode_text(value)


def _query_string(text: str) -> str:
    """The query string of a whole URL, or ``text`` itself: it is a query string already."""
    if _WHOLE_URL.match(text):
        if text.isascii() and not text.encode("ascii").translate(None, _URL_PLAIN):
            # What urlsplit gives when there is no fragment, bracket or character it strips:
            # everything after the first "?" (the scheme and host cannot hold one). Checked
            # with bytes.translate: five times faster than a regex search over ~940 characters.
            return text.partition("?")[2]
        try:  # as urllib reads it (it also drops tabs and line breaks, as browsers do)
            return urlsplit(text).query
        except ValueError:  # e.g. an unclosed IPv6 bracket
            raise InvalidPayload("The callback URL is not a valid URL.") from None
    return text


def _query_pairs(query: str) -> list[tuple[str, str]]:
    """``parse_qsl(query, keep_blank_values=True)`` with the field cap."""
    try:
        return parse_qsl(query, keep_blank_values=True, max_num_fields=MAX_QUERY_FIELDS)
    except ValueError:
        raise InvalidPayload from None


def _plain_query_pairs(query: str) -> list[tuple[str, str]]:
    """`_query_pairs` of a query with nothing escaped (no ``%`` or ``+``): split in one pass.

    A callback URL's query (names, types, URL-safe base64) never has any, so ``parse_qsl``'s
    unquoting has nothing to do (``tests/test_urls.py`` compares the two readings).
    """
    items = query.split("&")
    if len(items) > MAX_QUERY_FIELDS:  # parse_qsl's max_num_fields
        raise InvalidPayload
    return [(name, value) for name, _, value in (item.partition("=") for item in items if item)]


def _query_values(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The first value of each parameter; a second ``data``, ``action`` or ``type`` is refused."""
    values: dict[str, str] = {}
    for name, value in pairs:
        if name in values:
            if name in _SINGLE_PARAMETERS:
                raise InvalidPayload  # two blobs or two names: refuse to guess
            continue  # the first of a repeated parameter counts
        values[name] = value
    return values


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
        """Read a whole URL, a bare query string, or an already-parsed mapping.

        Only a whole URL (``scheme://...``) is cut at its first ``?`` (and its ``#``), as urllib
        reads it; any other string is a query string and read whole, as the front end that
        delivered it read it: in ``...&note=why?`` the ``?`` is part of a value,
        ``data=X?&data=BLOB`` holds two ``data`` parameters (refused), never just the second,
        in ``?data=BLOB`` the first parameter is named ``?data``, and ``/?data=A#&data=B``
        (not a URL: it has no scheme) holds two ``data`` parameters (refused).

        Raises:
            PayloadTooLarge: the query string (or mapping) is implausibly long.
            InvalidPayload: there is no single ``data`` parameter, more than 64 parameters, or a
                name or value that is not text (a lone surrogate in a mapping).
        """
        if isinstance(url_or_query, str):
            query = _query_string(url_or_query)
            if len(query) > MAX_QUERY_LENGTH:
                raise PayloadTooLarge
            if query.isascii() and "%" not in query and "+" not in query:
                values = _query_values(_plain_query_pairs(query))
            else:
                pairs = _query_pairs(query)
                if not query.isascii() and not all(
                    _is_text(name) and _is_text(value) for name, value in pairs
                ):
                    # A query string a server decoded is text; one built by hand may hold a
                    # lone surrogate, and output parameters cannot be encoded from it.
                    raise InvalidPayload("The callback URL's query is not valid Unicode text.")
                values = _query_values(pairs)
        else:
            pairs = list(url_or_query.items())
            # Parameters an adapter parsed already get the caps of the raw query string,
            # measured as the unescaped ``name=value&...`` they would make.
            length = sum(len(str(name)) + len(str(value)) + 2 for name, value in pairs) - 1
            if length > MAX_QUERY_LENGTH:
                raise PayloadTooLarge
            if len(pairs) > MAX_QUERY_FIELDS:
                raise InvalidPayload
            if not all(_is_text(name) and _is_text(value) for name, value in pairs):
                # A decoded URL is UTF-8 text; a pre-parsed mapping might not be (a lone
                # surrogate), and output parameters cannot be encoded from it.
                raise InvalidPayload("The callback URL's query is not valid Unicode text.")
            values = _query_values(pairs)
        data = values.pop(QUERY_DATA, None)
        if not data:
            raise InvalidPayload("The callback URL has no data parameter.")
        # The fields are final here: fill them at once (a frozen dataclass's __init__ sets
        # each through object.__setattr__, which costs more than the checks above).
        parsed = _new_object(cls)
        parsed.__dict__.update(
            data=data, action=values.get(QUERY_ACTION), type=values.get(QUERY_TYPE), params=values
        )
        return parsed


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
    leeway: timedelta | None = None,
) -> OpenedCallback:
    """Verify a callback URL (or its query) and check its ``action``/``type`` against the blob.

    This is the one way a callback is opened: `CallbackHandler` and ``sfn-callback-urls
    inspect`` call it too.

    Args:
        codec: opens the blob (its keys, mode and purpose decide what is accepted).
        url_or_query: the whole URL, its query string, or the parsed query parameters.
        now: the time to check expiry against (default: the wall clock).
        leeway: clock skew tolerated on expiry (default: the codec's).

    Raises:
        InvalidPayload, PayloadTooLarge: see `Codec.open()`.
        ExpiredPayload: the blob is authentic but expired (its ``claims`` are attached).
        ActionMismatched: ``action`` or ``type`` is present and differs from the sealed one.
    """
    return open_with(codec, url_or_query, now=now, leeway=leeway)


class BlobOpener(Protocol):
    """What opens a blob: a `Codec`, or the original app's reader (``_original``)."""

    leeway: timedelta

    def open(self, blob: str, *, now: datetime | None = None, check_expiry: bool = True) -> Claims:
        """Verify ``blob`` and return its claims (expired ones too, without the check)."""


def open_with(
    opener: BlobOpener,
    url_or_query: str | Mapping[str, str] | CallbackQuery,
    *,
    now: datetime | None = None,
    leeway: timedelta | None = None,
) -> OpenedCallback:
    """`open_callback()` with any `BlobOpener`: the same parsing and checks for every format."""
    query = (
        url_or_query
        if isinstance(url_or_query, CallbackQuery)
        else CallbackQuery.parse(url_or_query)
    )
    claims = opener.open(query.data, check_expiry=False)
    claims.check_expiry(checked_now(now), opener.leeway if leeway is None else leeway)
    check_query_matches(query, claims)
    opened = _new_object(OpenedCallback)  # as CallbackQuery.parse: every field is final
    opened.__dict__.update(claims=claims, params=query.params)
    return opened


def check_query_matches(query: CallbackQuery, claims: Claims) -> None:
    """Raise `ActionMismatched` if the query names another action or type than the blob.

    ``action`` and ``type`` are optional in the query; when present they must match.
    """
    action = claims.action
    if (query.action is not None and query.action != action.name) or (
        query.type is not None and query.type != action.type
    ):
        raise ActionMismatched(claims=claims)
