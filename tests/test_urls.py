"""Tests of minting callback URLs and reading them back (``urls.py``)."""

from __future__ import annotations

import json
import string
import uuid
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import hypothesis
import pytest
from hypothesis import strategies as st
from pydantic import ValidationError

from helpers import KEY, blob_of, synthetic_token  # tests/ is on sys.path
from sfn_callback_urls._claims import Claims, is_transaction_id, new_transaction_id
from sfn_callback_urls._codec import MAX_BLOB_LENGTH, Codec
from sfn_callback_urls._models import (
    CreateUrlsRequest,
    CreateUrlsResponse,
    FailureAction,
    HeartbeatAction,
    SuccessAction,
)
from sfn_callback_urls._response_writer import response_json, trusted_response
from sfn_callback_urls._urls import (
    MAX_QUERY_LENGTH,
    CallbackQuery,
    Minter,
    _plain_query_pairs,
    _query_pairs,
    _query_string,
    callback_url,
    open_callback,
)
from sfn_callback_urls._validation import parse_create_urls_request
from sfn_callback_urls.errors import (
    ActionMismatched,
    ConfigurationError,
    ExpiredPayload,
    InvalidDate,
    InvalidPayload,
    InvalidRequest,
    PayloadTooLarge,
)
from sfn_callback_urls.testing import action_names

CODEC = Codec(KEY)
BASE_URL = "https://abcdef1234.execute-api.us-east-1.amazonaws.com/prod"
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)
TOKEN = synthetic_token()
APPROVE = SuccessAction(name="approve", output={"name_in_output": "Ben"})
REJECT = FailureAction(name="reject", error="rejected", cause="Ben rejected it")
PING = HeartbeatAction(name="ping")
_BASE64URL = string.ascii_letters + string.digits + "-_"


def minter(base_url: str | None = BASE_URL) -> Minter:
    """A minter over the test codec."""
    return Minter(CODEC, base_url=base_url)


# --- minting -------------------------------------------------------------------------------------


def test_mint_answers_the_contract_shape() -> None:
    """Minting answers {transaction_id, urls, expiration}, the expiration as UTC ``...Z`` text."""
    response = minter().mint(TOKEN, [APPROVE, REJECT], expires_in=timedelta(days=7), now=NOW)
    body = response.model_dump(mode="json", exclude_none=True)
    assert set(body) == {"transaction_id", "urls", "expiration"}
    assert body["expiration"] == "2026-12-02T10:00:00Z"
    assert str(uuid.UUID(body["transaction_id"])) == body["transaction_id"]
    assert list(body["urls"]) == ["approve", "reject"]
    json.dumps(body)  # plain JSON all the way down


def test_mint_without_expiry_has_no_expiration() -> None:
    """Without an expiry the response has no expiration and the blobs open at any time."""
    response = minter().mint(TOKEN, [PING], now=NOW)
    assert set(response.model_dump(mode="json", exclude_none=True)) == {"transaction_id", "urls"}
    claims = CODEC.open(blob_of(response.urls["ping"]), now=NOW + timedelta(days=36500))
    assert claims.expires_at is None


def test_urls_have_the_contract_form() -> None:
    """Each URL is {base_url}/respond?action=NAME&type=TYPE&data=BLOB."""
    response = minter().mint(TOKEN, [APPROVE, REJECT, PING], now=NOW)
    for action in (APPROVE, REJECT, PING):
        url = response.urls[action.name]
        prefix = f"{BASE_URL}/respond?action={action.name}&type={action.type}&data="
        assert url.startswith(prefix)
        assert url == callback_url(BASE_URL, action, url[len(prefix) :])


def test_transaction_id_is_shared_by_the_urls_of_one_call() -> None:
    """Every URL of one call carries the response's transaction id; the next call gets another."""
    first = minter().mint(TOKEN, [APPROVE, REJECT, PING], now=NOW)
    second = minter().mint(TOKEN, [APPROVE], now=NOW)
    for url in first.urls.values():
        assert CODEC.open(blob_of(url), now=NOW).transaction_id == first.transaction_id
    assert second.transaction_id != first.transaction_id


def test_minted_claims_hold_the_request() -> None:
    """Each blob holds the token, its own action, the issue time, expiry and parameter flag."""
    expires_at = datetime(2026, 12, 1, 12, 30, 15, 999, tzinfo=timezone.utc)
    response = minter().mint(
        TOKEN, [APPROVE, REJECT], expires_at=expires_at, enable_output_parameters=True, now=NOW
    )
    for action in (APPROVE, REJECT):
        claims = open_callback(CODEC, response.urls[action.name], now=NOW).claims
        assert claims == Claims(
            token=TOKEN,
            action=action,
            transaction_id=response.transaction_id,
            issued_at=NOW,
            expires_at=expires_at.replace(microsecond=0),
            output_parameters=True,
        )
    assert response.expiration == expires_at


def test_expiration_is_echoed_in_utc() -> None:
    """An expiration given in another timezone is echoed normalized to UTC."""
    paris = timezone(timedelta(hours=1))
    request = {
        "token": TOKEN,
        "actions": [{"name": "ping", "type": "heartbeat"}],
        "expiration": "2026-11-26T11:00:00+01:00",
    }
    response = minter().create_urls(request, now=NOW)
    assert response.expiration == datetime(2026, 11, 26, 11, 0, tzinfo=paris)
    assert response.model_dump(mode="json")["expiration"] == "2026-11-26T10:00:00Z"
    claims = CODEC.open(blob_of(response.urls["ping"]), now=NOW)
    assert claims.expires_at == datetime(2026, 11, 26, 10, 0, tzinfo=timezone.utc)


def test_expiry_is_enforced_on_open() -> None:
    """A minted URL opens until its expiry (plus leeway) and is expired after."""
    response = minter().mint(TOKEN, [APPROVE], expires_in=timedelta(hours=1), now=NOW)
    url = response.urls["approve"]
    assert open_callback(CODEC, url, now=NOW + timedelta(hours=1)).claims.token == TOKEN
    with pytest.raises(ExpiredPayload) as caught:
        open_callback(CODEC, url, now=NOW + timedelta(hours=1, seconds=31))
    assert caught.value.expired_at == NOW + timedelta(hours=1)


def test_request_base_url_overrides_the_minters() -> None:
    """A request's base_url wins over the minter's; trailing slashes are dropped."""
    other = "https://approvals.example.com/hooks/"
    request = {"token": TOKEN, "actions": [{"name": "ping", "type": "heartbeat"}]}
    response = minter().create_urls({**request, "base_url": other}, now=NOW)
    assert response.urls["ping"].startswith(
        "https://approvals.example.com/hooks/respond?action=ping&"
    )
    via_mint = minter().mint(TOKEN, [PING], base_url=other, now=NOW)
    assert via_mint.urls["ping"].startswith("https://approvals.example.com/hooks/respond?")
    bare = Minter(CODEC).create_urls({**request, "base_url": other}, now=NOW)
    assert bare.urls["ping"].startswith("https://approvals.example.com/hooks/respond?")
    assert (
        minter(BASE_URL + "/")
        .mint(TOKEN, [PING], now=NOW)
        .urls["ping"]
        .startswith(BASE_URL + "/respond?")
    )


def test_no_base_url_is_a_configuration_error() -> None:
    """Without a base URL on the minter or the request, minting is a ConfigurationError."""
    with pytest.raises(ConfigurationError):
        Minter(CODEC).mint(TOKEN, [PING], now=NOW)


@pytest.mark.parametrize(
    "base_url",
    ["ftp://example.com", "example.com/prod", "https://example.com/?a=b", "https://x.com/#f", ""],
)
def test_bad_minter_base_urls_are_refused(base_url: str) -> None:
    """A base URL that is not absolute http(s) without query or fragment is refused."""
    with pytest.raises(ConfigurationError):
        Minter(CODEC, base_url=base_url)


def test_create_urls_accepts_models_mappings_and_json() -> None:
    """create_urls takes a request model, a mapping, JSON text or JSON bytes alike."""
    request = {"token": TOKEN, "actions": [APPROVE.model_dump(mode="json")]}
    for given in (
        parse_create_urls_request(request, now=NOW),
        request,
        json.dumps(request),
        json.dumps(request).encode(),
    ):
        response = minter().create_urls(given, now=NOW)
        assert CODEC.open(blob_of(response.urls["approve"]), now=NOW).action == APPROVE


def test_expiry_in_the_past_is_refused() -> None:
    """A past (or present) expiration is InvalidDate, for dicts, models and mint alike."""
    with pytest.raises(InvalidDate):
        minter().mint(TOKEN, [PING], expires_at=NOW, now=NOW)
    with pytest.raises(InvalidDate):
        minter().mint(TOKEN, [PING], expires_in=timedelta(seconds=-1), now=NOW)
    model = parse_create_urls_request(
        {"token": TOKEN, "actions": [{"name": "ping", "type": "heartbeat"}]}, now=NOW
    ).model_copy(update={"expiration": NOW - timedelta(days=1)})
    assert isinstance(model, CreateUrlsRequest)
    with pytest.raises(InvalidDate):
        minter().create_urls(model, now=NOW)


def test_expires_at_and_expires_in_together_are_refused() -> None:
    """Giving both expires_at and expires_in is InvalidDate."""
    with pytest.raises(InvalidDate):
        minter().mint(
            TOKEN,
            [PING],
            expires_at=NOW + timedelta(days=1),
            expires_in=timedelta(days=1),
            now=NOW,
        )


def test_invalid_requests_never_echo_the_token() -> None:
    """An invalid request is InvalidRequest whose message leaves the token out."""
    with pytest.raises(InvalidRequest) as caught:
        minter().mint(TOKEN, [PING, PING], now=NOW)
    assert TOKEN not in str(caught.value)
    with pytest.raises(InvalidRequest) as caught:
        minter().create_urls({"token": TOKEN, "actions": [], TOKEN: 1}, now=NOW)
    assert TOKEN not in str(caught.value)


def test_request_repr_hides_the_token() -> None:
    """A create-URLs request's repr hides its token, as Claims' repr does (requests get logged).

    Fails today: ``CreateUrlsRequest.token`` is a plain pydantic field, shown by repr and str.
    """
    request = parse_create_urls_request(
        {"token": TOKEN, "actions": [{"name": "ping", "type": "heartbeat"}]}, now=NOW
    )
    assert TOKEN not in repr(request)
    assert TOKEN not in str(request)


# --- reading URLs back ---------------------------------------------------------------------------


@pytest.fixture
def url() -> str:
    """A minted approve URL."""
    return minter().mint(TOKEN, [APPROVE], now=NOW).urls["approve"]


def test_parse_full_url(url: str) -> None:
    """A full URL parses to its data, action, type and the other parameters."""
    query = CallbackQuery.parse(url + "&name=Ben#fragment")
    assert query.data == parse_qs(urlsplit(url).query)["data"][0]
    assert (query.action, query.type) == ("approve", "success")
    assert query.params == {"action": "approve", "type": "success", "name": "Ben"}


def test_parse_bare_query_and_mapping(url: str) -> None:
    """A bare query string and a mapping parse like the full URL; a leading ``?`` is a name's."""
    full = CallbackQuery.parse(url)
    query_string = urlsplit(url).query
    assert CallbackQuery.parse(query_string) == full
    # A query string is read as a front end reads it (issue 9, finding 4): no '?' is special.
    assert CallbackQuery.parse("?" + query_string).params["?action"] == "approve"
    mapping = {key: values[0] for key, values in parse_qs(query_string).items()}
    assert CallbackQuery.parse(mapping) == full


def test_parse_without_action_or_type(url: str) -> None:
    """``action`` and ``type`` are optional: a bare ``data`` parses and opens."""
    query = CallbackQuery.parse({"data": blob_of(url)})
    assert (query.action, query.type, dict(query.params)) == (None, None, {})
    assert open_callback(CODEC, query, now=NOW).claims.action == APPROVE


@pytest.mark.parametrize(
    "query",
    ["", "action=approve&type=success", "data=", "data", "Data=abc", "?", {}, {"action": "a"}],
)
def test_missing_data_is_invalid(query: str | dict[str, str]) -> None:
    """A query without a non-empty ``data`` parameter is InvalidPayload."""
    with pytest.raises(InvalidPayload):
        CallbackQuery.parse(query)


@pytest.mark.parametrize("name", ["data", "action", "type"])
def test_duplicate_data_action_or_type_is_invalid(url: str, name: str) -> None:
    """A second ``data``, ``action`` or ``type`` parameter is refused rather than guessed at."""
    with pytest.raises(InvalidPayload):
        CallbackQuery.parse(f"{url}&{name}=x")
    with pytest.raises(InvalidPayload):
        open_callback(CODEC, f"{url}&{name}=x", now=NOW)


def test_duplicate_other_parameters_keep_the_first(url: str) -> None:
    """Repeated output parameters keep their first value."""
    assert CallbackQuery.parse(f"{url}&name=Ben&name=Eve").params["name"] == "Ben"


def test_oversized_queries_are_refused() -> None:
    """A query longer than MAX_QUERY_LENGTH is PayloadTooLarge; too many fields InvalidPayload."""
    with pytest.raises(PayloadTooLarge):
        CallbackQuery.parse("data=" + "A" * MAX_QUERY_LENGTH)
    with pytest.raises(PayloadTooLarge):
        open_callback(CODEC, {"data": "A" * (MAX_BLOB_LENGTH + 1)}, now=NOW)
    with pytest.raises(InvalidPayload):
        CallbackQuery.parse("data=abc" + "&x=1" * 100)


def test_mismatched_action_or_type_is_refused(url: str) -> None:
    """A URL whose action or type was edited is ActionMismatched."""
    with pytest.raises(ActionMismatched):
        open_callback(CODEC, url.replace("action=approve", "action=reject"), now=NOW)
    with pytest.raises(ActionMismatched):
        open_callback(CODEC, url.replace("type=success", "type=failure"), now=NOW)


def test_query_repr_hides_the_blob(url: str) -> None:
    """A parsed query's repr shows no blob."""
    query = CallbackQuery.parse(url)
    assert query.data not in repr(query)


def test_opened_callback_keeps_the_other_parameters(url: str) -> None:
    """open_callback returns the verified claims and the query's other parameters."""
    opened = open_callback(CODEC, url + "&name=Ben", now=NOW)
    assert opened.claims.token == TOKEN
    assert opened.params["name"] == "Ben"
    assert "data" not in opened.params


@hypothesis.given(
    name=action_names(),
    blob=st.text(alphabet=_BASE64URL, min_size=1, max_size=900) | st.text(max_size=50),
)
def test_callback_url_is_what_urlencode_makes(name: str, blob: str) -> None:
    """The URL is exactly urlencode's, whether the blob needs escaping (not ours) or not."""
    action = SuccessAction(name=name, output=None)
    query = urlencode({"action": name, "type": "success", "data": blob})
    assert callback_url(BASE_URL, action, blob) == f"{BASE_URL}/respond?{query}"


@pytest.mark.parametrize(
    ("token", "actions", "kwargs"),
    [
        ("", [PING], {}),
        ("x" * 2049, [PING], {}),
        ("lone \ud800 surrogate", [PING], {}),
        (TOKEN, [], {}),
        (TOKEN, [PING, PING], {}),
        (TOKEN, [{"name": "ping", "type": "nope"}], {}),
        (TOKEN, [PING], {"enable_output_parameters": 1}),
        (TOKEN, [PING], {"expires_at": datetime(2026, 12, 1)}),
        (TOKEN, [PING], {"expires_at": NOW}),
        (TOKEN, [PING], {"base_url": "ftp://example.com"}),
        (TOKEN, [PING], {"base_url": "https://example.com/x?y"}),
    ],
)
def test_mint_refuses_what_create_urls_refuses(
    token: str, actions: list[Any], kwargs: dict[str, Any]
) -> None:
    """Minter.mint checks its arguments without a model, and fails exactly as create_urls does."""
    request: dict[str, Any] = {"token": token, "actions": actions}
    for name, value in kwargs.items():
        request[{"expires_at": "expiration"}.get(name, name)] = value
    with pytest.raises(InvalidRequest) as by_model:
        minter().create_urls(request, now=NOW)
    with pytest.raises(InvalidRequest) as by_mint:
        minter().mint(token, actions, now=NOW, **kwargs)
    assert type(by_mint.value) is type(by_model.value)
    assert str(by_mint.value) == str(by_model.value)


_QUERY_PIECES = st.sampled_from(["", "=", "data", "action", "type", "a", "x_y", "==", ";", "-"])


def _parsed(text: str) -> object:
    """What CallbackQuery.parse makes of ``text``: the query, or the type of its error."""
    try:
        return CallbackQuery.parse(text)
    except (InvalidPayload, PayloadTooLarge) as error:
        return type(error)


@hypothesis.given(
    st.lists(st.tuples(_QUERY_PIECES, st.sampled_from(["=", ""]), _QUERY_PIECES), max_size=8),
    st.integers(min_value=0, max_value=8),
)
def test_query_parsing_is_parse_qsl_with_or_without_escapes(
    pieces: list[tuple[str, str, str]], data_at: int
) -> None:
    """A query with nothing to unquote parses as the same query escaped (through parse_qsl)."""
    parts = ["".join(piece) for piece in pieces]
    parts.insert(data_at, "data=blob")
    query = "&".join(parts)
    assert _parsed(query) == _parsed(query.replace("a", "%61"))


@pytest.mark.parametrize("fields", [63, 64, 65])
def test_the_field_cap_holds_with_or_without_escapes(fields: int) -> None:
    """At most 64 fields, counted as parse_qsl counts them, whether escaped or not."""
    query = "&".join(["data=blob"] + ["x=1"] * (fields - 1))
    assert _parsed(query) == _parsed(query.replace("a", "%61"))
    assert (_parsed(query) is InvalidPayload) == (fields > 64)


@hypothesis.given(
    st.builds(
        "{}://{}{}?{}{}".format,
        st.sampled_from(["https", "http", "HTTP", "a+b.c-d"]),
        st.text(alphabet="abc.:[]@ \t", max_size=12),
        st.text(alphabet="/abc?#% \n", max_size=12),
        st.text(alphabet="a=&?/#%\r\t ", max_size=20),
        st.sampled_from(["", "#frag", "#a?b"]),
    )
)
def test_a_whole_urls_query_is_what_urlsplit_reads(url: str) -> None:
    """The query of a whole URL is urllib's, with or without the fast path (or both refuse)."""
    from sfn_callback_urls import _urls

    try:
        expected: object = urlsplit(url).query
    except ValueError:
        expected = InvalidPayload
    try:
        got: object = _urls._query_string(url)
    except InvalidPayload:
        got = InvalidPayload
    assert got == expected


@hypothesis.given(
    st.sampled_from(["/", "//", "?", "#", "/respond?"]),
    st.text(alphabet="/:?#[]ab=&\t\n ", max_size=30),
)
def test_a_query_starting_with_a_slash_question_or_hash_is_read_whole(
    prefix: str, rest: str
) -> None:
    """Only ``scheme://`` makes a URL: a query string starting with / ? # or // is read whole."""
    from sfn_callback_urls import _urls

    assert _urls._query_string(prefix + rest) == prefix + rest


_URL_CHARS = st.sampled_from(
    [*"aZ09-_=&?%+/.:;~!$'()*,@", "#", "[", "]", " ", "\t", "\r", "\n", "\x00", "\x7f", "é", "€"]
)


@hypothesis.given(
    prefix=st.sampled_from(["https://h.example/respond?", "http://h/?", "https://h/"]),
    rest=st.text(_URL_CHARS, max_size=40),
)
def test_a_whole_url_is_read_as_urllib_splits_it(prefix: str, rest: str) -> None:
    """A whole URL's query string is ``urlsplit(url).query``, whatever the URL holds.

    Fragments, brackets, spaces, control characters, DEL and non-ASCII: the fast path (no
    urlsplit) and urllib agree, and what urllib refuses is refused.
    """
    url = prefix + rest + "&data=BLOB"
    try:
        expected = urlsplit(url).query
    except ValueError:  # an unclosed IPv6 bracket
        with pytest.raises(InvalidPayload):
            _query_string(url)
        return
    assert _query_string(url) == expected


# --- mint's direct path and the request model agree ----------------------------------------


class _NoOffset(tzinfo):
    """A tzinfo that answers no UTC offset: not timezone-aware, whatever ``tzinfo`` says."""

    def utcoffset(self, dt: datetime | None) -> None:
        """No offset."""
        return

    def dst(self, dt: datetime | None) -> None:
        """No DST."""
        return


_APPROVE = SuccessAction(name="approve", output={"ok": True})
_NAIVE_NOWS = [datetime(2030, 1, 1), datetime(2030, 1, 1, tzinfo=_NoOffset())]


@pytest.mark.parametrize("now", _NAIVE_NOWS, ids=["naive", "no-offset"])
@pytest.mark.parametrize("expires", [None, NOW + timedelta(days=9999)], ids=["no-expiry", "aware"])
def test_a_naive_now_is_a_value_error_on_every_path(now: datetime, expires: Any) -> None:
    """``now`` is the caller's argument: naive is a ValueError from mint, create_urls and open."""
    minter = Minter(CODEC, base_url=BASE_URL)
    with pytest.raises(ValueError, match="timezone-aware"):
        minter.mint(TOKEN, [_APPROVE], expires_at=expires, now=now)
    with pytest.raises(ValueError, match="timezone-aware"):
        minter.create_urls({"token": TOKEN, "actions": [_APPROVE], "expiration": expires}, now=now)
    url = minter.mint(TOKEN, [_APPROVE], expires_in=timedelta(days=1)).urls["approve"]
    with pytest.raises(ValueError, match="timezone-aware"):
        open_callback(CODEC, url, now=now)
    with pytest.raises(ValueError, match="timezone-aware"):
        CODEC.open(blob_of(url), now=now)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        # No UTC equivalent: datetime.max one hour behind UTC.
        ({"expires_at": datetime.max.replace(tzinfo=timezone(timedelta(hours=-1)))}, InvalidDate),
        ({"expires_at": datetime(2031, 1, 1, tzinfo=_NoOffset())}, InvalidDate),
        ({"expires_at": "2031-01-01T00:00:00Z"}, None),  # text, as the JSON contract takes it
        ({"expires_in": timedelta.max}, InvalidDate),
        ({"expires_in": 3600}, InvalidDate),
        ({"base_url": "ftp://example.com"}, InvalidRequest),
        ({"base_url": "https://exa mple.com"}, InvalidRequest),
        ({"base_url": {"api_id": "abc123", "stage": "prod", "region": "us-east-1"}}, None),
    ],
    ids=[
        "expires-at-without-utc",
        "expires-at-no-offset",
        "expires-at-text",
        "expires-in-max",
        "expires-in-int",
        "base-url-ftp",
        "base-url-space",
        "base-url-object",
    ],
)
def test_mint_answers_odd_arguments_as_the_request_model_does(
    kwargs: dict[str, Any], error: type[Exception] | None
) -> None:
    """Odd arguments get the request model's typed error, never a bare TypeError.

    Nor an OverflowError or AttributeError; what the model accepts (text dates, the original's
    base URL object) mints.
    """
    minter = Minter(CODEC, base_url=BASE_URL)
    if error is None:
        response = minter.mint(TOKEN, [_APPROVE], now=NOW, **kwargs)
        assert response.urls["approve"].isascii()
        return
    with pytest.raises(error):
        minter.mint(TOKEN, [_APPROVE], now=NOW, **kwargs)


def test_a_naive_expiration_object_is_named_as_such() -> None:
    """A naive expiration says so; one out of range says that, not "must include a timezone"."""
    with pytest.raises(InvalidDate, match="must include a timezone"):
        parse_create_urls_request(
            {"token": TOKEN, "actions": [_APPROVE], "expiration": datetime(2031, 1, 1)},
            now=NOW,
        )
    far = datetime.max.replace(tzinfo=timezone(timedelta(hours=-1)))
    with pytest.raises(InvalidDate, match="out of range"):
        parse_create_urls_request(
            {"token": TOKEN, "actions": [_APPROVE], "expiration": far}, now=NOW
        )


def test_purpose_and_base_url_cannot_drift_from_what_was_checked() -> None:
    """A codec's purpose and a minter's base URL stay what they were checked and bound as."""
    codec = Codec(KEY, purpose="alpha")
    with pytest.raises(AttributeError):
        codec.purpose = "beta"  # type: ignore[misc]
    minter = Minter(codec, base_url=BASE_URL)
    with pytest.raises(AttributeError):
        minter.base_url = "not a url"  # type: ignore[misc]
    url = minter.mint(TOKEN, [_APPROVE], now=NOW).urls["approve"]
    assert open_callback(Codec(KEY, purpose="alpha"), url, now=NOW).claims.token == TOKEN


@pytest.mark.parametrize(
    "expiration", [None, datetime(2026, 11, 25, 10, 0, 0, 5, tzinfo=timezone.utc)]
)
def test_trusted_response_is_what_model_construct_makes(expiration: datetime | None) -> None:
    """The minter's response, built without pydantic's per-field loop, is model_construct's."""
    urls = {"approve": "https://example.com/respond?data=x"}
    tid = "7d0c4a52-0d6e-4f3b-8f0e-2b8f1c9f4a10"
    fast = trusted_response(tid, urls, expiration)
    slow = CreateUrlsResponse.model_construct(transaction_id=tid, urls=urls, expiration=expiration)
    assert type(fast) is CreateUrlsResponse
    assert fast == slow
    assert fast.model_fields_set == slow.model_fields_set
    assert fast.__pydantic_extra__ == slow.__pydantic_extra__
    assert fast.__pydantic_private__ == slow.__pydantic_private__
    for kwargs in ({}, {"mode": "json", "exclude_none": True}, {"exclude_unset": True}):
        assert fast.model_dump(**kwargs) == slow.model_dump(**kwargs)
    assert fast.model_dump_json() == slow.model_dump_json()
    assert fast.model_copy(update={"urls": {}}).urls == {}
    assert repr(fast) == repr(slow)
    with pytest.raises(ValidationError):
        fast.transaction_id = "other"  # frozen, as any response


@hypothesis.given(
    urls=st.dictionaries(action_names(), st.text(max_size=40), min_size=1, max_size=3),
    expiration=st.none()
    | st.datetimes(timezones=st.just(timezone.utc))
    | st.datetimes(timezones=st.just(timezone(timedelta(hours=5, minutes=30)))),
)
def test_the_contract_json_of_a_response_is_its_json_dump(
    urls: dict[str, str], expiration: datetime | None
) -> None:
    """The ready app's hand-written answer is exactly model_dump(mode="json", exclude_none=True)."""
    tid = "7d0c4a52-0d6e-4f3b-8f0e-2b8f1c9f4a10"
    for response in (
        trusted_response(tid, urls, expiration),
        CreateUrlsResponse(transaction_id=tid, urls=urls, expiration=expiration),
    ):
        assert response_json(response) == response.model_dump(mode="json", exclude_none=True)


def _both_readings(query: str) -> tuple[object, object]:
    """``query`` split by parse_qsl and by the one-pass split (InvalidPayload when refused)."""
    readings: list[object] = []
    for read in (lambda: _query_pairs(query), lambda: _plain_query_pairs(query)):
        try:
            readings.append(read())
        except InvalidPayload:
            readings.append(InvalidPayload)
    return readings[0], readings[1]


#: Plain query text: ASCII without "%" or "+", so nothing to unquote; "&" and "=" often.
_PLAIN_QUERY_CHARS = st.sampled_from("&&&===daton_typeicAZ09-_.~!$'()*,;:@/?")


@hypothesis.given(
    st.lists(st.sampled_from(["data", "action", "type", "x"]), max_size=4).flatmap(
        lambda names: st.tuples(
            st.just(names), st.text(_PLAIN_QUERY_CHARS, max_size=20), st.integers(0, 70)
        )
    )
)
def test_a_plain_query_reads_as_parse_qsl_reads_it(parts: tuple[list[str], str, int]) -> None:
    """The one-pass split of an unescaped query gives parse_qsl's values, and refuses alike."""
    names, noise, extra_fields = parts
    query = "&".join([f"{name}=v{i}" for i, name in enumerate(names)] + [noise])
    query += "&f=1" * extra_fields  # around the 64-field cap
    expected, got = _both_readings(query)
    assert got == expected


@pytest.mark.parametrize("fields", [1, 63, 64, 65, 66])
@pytest.mark.parametrize("empty_items", [0, 2])
def test_a_plain_query_has_parse_qsl_field_cap(fields: int, empty_items: int) -> None:
    """At, under and over 64 fields (empty items counted as parse_qsl counts them), both agree."""
    query = "&".join(["data=B"] + [f"p{i}=v" for i in range(fields - 1)] + [""] * empty_items)
    expected, got = _both_readings(query)
    assert got == expected
    assert (expected is InvalidPayload) == (fields + empty_items > 64)


def test_transaction_ids_are_random_uuid4_in_canonical_form() -> None:
    """Every minted transaction id is a canonical RFC 4122 version-4 UUID, never repeated."""
    ids = [new_transaction_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert str(parsed) == text
        assert is_transaction_id(text)
    # All four variant digits and every other hex digit appear: no bit is stuck.
    assert {text[19] for text in ids} == set("89ab")
    assert {text[0] for text in ids} == set("0123456789abcdef")
