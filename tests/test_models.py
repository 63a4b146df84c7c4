"""Tests of the data model: the original app's request contract, errors, round trips."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from helpers import synthetic_token  # tests/ is on sys.path
from original_readme import README_POST_ACTION  # tests/ is on sys.path
from sfn_callback_urls._models import (
    ACTION_ADAPTER,
    CreateUrlsRequest,
    CreateUrlsResponse,
    FailureAction,
    FailureOutcome,
    HeartbeatAction,
    HeartbeatOutcome,
    PostAction,
    ResponseSpec,
    SuccessAction,
    SuccessOutcome,
    compile_json_path,
    compile_json_schema,
)
from sfn_callback_urls._validation import parse_action, parse_create_urls_request
from sfn_callback_urls.errors import (
    DuplicateActionName,
    InvalidDate,
    InvalidJson,
    InvalidJsonPath,
    InvalidJsonSchema,
    InvalidRequest,
)

TOKEN = synthetic_token()
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
FAR_FUTURE = "2099-11-25T10:00:00Z"

# --- the original app's README examples -------------------------------------------------------

README_REQUEST: dict[str, Any] = {
    "token": "<the token from Step Functions>",
    "actions": [
        {"name": "approve", "type": "success", "output": {"your": "content"}, "response": {}},
        {"name": "name2", "type": "success", "output": "a different output"},
        {
            "name": "name3",
            "type": "failure",
            "error": "your error code",
            "cause": "your error cause",
        },
        {"name": "name4", "type": "heartbeat"},
    ],
    "expiration": FAR_FUTURE,
    "enable_output_parameters": True,
}

README_RESPONSES: list[dict[str, Any]] = [
    {"redirect": "https://example.com"},
    {"json": {"hello": "world"}, "html": "<html>hello, world</html>", "text": "hello, world"},
]


BLOG_REQUEST: dict[str, Any] = {
    "token": "<the token from Step Functions>",
    "actions": [
        {"name": "approve", "type": "success", "output": {"name_in_output": "Ben"}},
        {"name": "reject", "type": "failure", "error": "rejected", "cause": "Ben rejected it"},
    ],
}


def request_with(**changes: Any) -> dict[str, Any]:
    """Return a minimal valid request carrying TOKEN, with fields replaced by ``changes``."""
    request: dict[str, Any] = {"token": TOKEN, "actions": [{"name": "ok", "type": "heartbeat"}]}
    request.update(changes)
    return request


def post_action_with(*outcomes: dict[str, Any]) -> dict[str, Any]:
    """Return a POST action with the given outcomes."""
    return {"name": "callback", "type": "post", "outcomes": list(outcomes)}


def test_readme_request_validates() -> None:
    """The README's create-URLs request validates into the four action types."""
    request = parse_create_urls_request(README_REQUEST)
    assert [type(a) for a in request.actions] == [
        SuccessAction,
        SuccessAction,
        FailureAction,
        HeartbeatAction,
    ]
    first, second, third, _ = request.actions
    assert isinstance(first, SuccessAction)
    assert first.output == {"your": "content"}
    assert first.response == ResponseSpec()
    assert isinstance(second, SuccessAction)
    assert second.output == "a different output"
    assert isinstance(third, FailureAction)
    assert (third.error, third.cause) == ("your error code", "your error cause")
    assert request.enable_output_parameters is True
    assert request.expiration == datetime(2099, 11, 25, 10, tzinfo=timezone.utc)


@pytest.mark.parametrize("response", README_RESPONSES)
def test_readme_response_specs_validate(response: dict[str, Any]) -> None:
    """The README's response specs (redirect; json/html/text) validate on an action."""
    action = parse_action({"name": "approve", "type": "success", "output": 1, "response": response})
    assert action.response is not None
    assert action.response.model_dump(exclude_none=True) == response


def test_readme_post_action_validates() -> None:
    """The README's POST action example validates next to a success action."""
    request = parse_create_urls_request(
        request_with(
            actions=[
                README_POST_ACTION,
                {"name": "name2", "type": "success", "output": "a different output"},
            ]
        )
    )
    post = request.actions[0]
    assert isinstance(post, PostAction)
    happy, sad = post.outcomes
    assert isinstance(happy, SuccessOutcome)
    assert happy.output_body is True
    assert isinstance(sad, FailureOutcome)
    assert sad.error_path == "$.reason"


def test_blog_approval_request_validates() -> None:
    """The blog post's approve/reject request validates."""
    request = parse_create_urls_request(BLOG_REQUEST)
    approve, reject = request.actions
    assert isinstance(approve, SuccessAction)
    assert approve.output == {"name_in_output": "Ben"}
    assert isinstance(reject, FailureAction)
    assert reject.cause == "Ben rejected it"
    assert request.expiration is None
    assert request.enable_output_parameters is False


def test_request_accepts_json_text() -> None:
    """A request given as JSON text or bytes validates like the mapping."""
    text = json.dumps(README_REQUEST)
    assert parse_create_urls_request(text) == parse_create_urls_request(README_REQUEST)
    assert parse_create_urls_request(text.encode()) == parse_create_urls_request(README_REQUEST)


# --- POST outcomes ----------------------------------------------------------------------------


def test_post_outcome_accessors_compile_and_cache() -> None:
    """Outcomes expose a compiled schema validator and compiled JSONPaths, cached across calls."""
    post = parse_action(README_POST_ACTION)
    assert isinstance(post, PostAction)
    happy, sad = post.outcomes
    assert happy.matches({"result": "good"})
    assert not happy.matches({"result": "bad", "reason": "x"})
    assert sad.matches({"result": "bad", "reason": "x"})
    assert happy.validator() is happy.validator()
    assert isinstance(sad, FailureOutcome)
    path = sad.compiled_error_path()
    assert path is not None
    assert path is sad.compiled_error_path()
    assert [m.value for m in path.find({"reason": "too late"})] == ["too late"]
    assert sad.compiled_cause_path() is None


def test_success_outcome_output_defaults_to_empty_object() -> None:
    """A success outcome without output, output_body or output_path outputs ``{}``."""
    outcome = SuccessOutcome(name="done", schema={})
    assert outcome.output == {}
    assert outcome.output_body is False
    assert outcome.compiled_output_path() is None


def test_outcome_schema_alias_round_trips() -> None:
    """``schema`` is the alias of ``schema_``: accepted by both names, dumped as ``schema``."""
    by_alias = SuccessOutcome.model_validate({"name": "a", "schema": {"type": "object"}})
    by_name = SuccessOutcome.model_validate({"name": "a", "schema_": {"type": "object"}})
    assert by_alias == by_name
    assert by_alias.model_dump()["schema"] == {"type": "object"}
    assert "schema_" not in by_alias.model_dump()
    assert SuccessOutcome.model_validate(by_alias.model_dump(by_alias=True)) == by_alias


def test_known_schema_dialect_is_used() -> None:
    """A ``$schema`` naming a known draft selects that draft's validator."""
    validator = compile_json_schema(
        {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"}
    )
    # The class is the draft's, extended with a linear-time uniqueItems: check its dialect.
    assert validator.META_SCHEMA["$schema"] == "http://json-schema.org/draft-07/schema#"


def test_models_are_frozen() -> None:
    """Models cannot be changed after validation."""
    action = HeartbeatAction(name="beat")
    with pytest.raises(ValidationError):
        action.name = "other"


# --- errors -----------------------------------------------------------------------------------


def assert_error(data: Any, error_class: type[InvalidRequest], location: str) -> InvalidRequest:
    """Check that parsing ``data`` raises ``error_class`` naming ``location`` and not the token."""
    with pytest.raises(InvalidRequest) as info:
        parse_create_urls_request(data, now=NOW)
    error = info.value
    assert type(error) is error_class, error.message
    assert location in [loc for loc, _ in error.errors], error.errors
    assert f"{location}: " in error.message or not location
    assert TOKEN not in error.message
    assert all(TOKEN not in loc and TOKEN not in msg for loc, msg in error.errors)
    return error


@pytest.mark.parametrize(
    ("actions", "location"),
    [
        ([{"name": "a", "type": "nope"}], "actions.0"),
        ([{"name": "a"}], "actions.0"),
        (
            [{"name": "ok", "type": "heartbeat"}, {"name": "a-b", "type": "heartbeat"}],
            "actions.1.name",
        ),
        ([{"name": "", "type": "heartbeat"}], "actions.0.name"),
        ([{"name": "a" * 65, "type": "heartbeat"}], "actions.0.name"),
        ([{"name": "a\n", "type": "heartbeat"}], "actions.0.name"),
        ([{"name": "a", "type": "success"}], "actions.0.output"),
        ([{"name": "a", "type": "failure", "error": "e" * 257}], "actions.0.error"),
        ([], "actions"),
        ([post_action_with()], "actions.0.outcomes"),
    ],
)
def test_invalid_action_is_invalid_request(actions: list[Any], location: str) -> None:
    """Unknown types, bad names, missing output, too-long errors, no actions are refused."""
    assert_error(request_with(actions=actions), InvalidRequest, location)


def test_unknown_type_message_names_type() -> None:
    """An unknown action type is reported with the expected types."""
    error = assert_error(
        request_with(actions=[{"name": "a", "type": "nope"}]), InvalidRequest, "actions.0"
    )
    assert "'nope'" in error.message
    assert "success" in error.message


def test_duplicate_action_names() -> None:
    """Two actions with one name raise DuplicateActionName."""
    actions = [{"name": "a", "type": "heartbeat"}, {"name": "a", "type": "success", "output": 1}]
    error = assert_error(request_with(actions=actions), DuplicateActionName, "actions")
    assert "'a'" in error.message


def test_duplicate_outcome_names() -> None:
    """Two outcomes of one POST action with one name raise DuplicateActionName."""
    outcome = {"name": "o", "type": "heartbeat", "schema": {}}
    action = post_action_with(outcome, outcome)
    assert_error(request_with(actions=[action]), DuplicateActionName, "actions.0.outcomes")


@pytest.mark.parametrize(
    ("outcome", "fields"),
    [
        ({"error": "e", "error_path": "$.e"}, ["error and error_path"]),
        ({"cause": "c", "cause_path": "$.c"}, ["cause and cause_path"]),
        (
            {"error": "e", "error_path": "$.e", "cause": "c", "cause_path": "$.c"},
            ["error and error_path", "cause and cause_path"],
        ),
    ],
)
def test_failure_outcome_fixed_and_path_exclusive(
    outcome: dict[str, Any], fields: list[str]
) -> None:
    """A failure outcome may not give both a fixed value and a path for error or cause."""
    action = post_action_with({"name": "o", "type": "failure", "schema": {}, **outcome})
    error = assert_error(request_with(actions=[action]), InvalidRequest, "actions.0.outcomes.0")
    assert all(field in error.message for field in fields)


def test_success_outcome_output_sources_exclusive() -> None:
    """A success outcome may give only one of output, output_body and output_path."""
    action = post_action_with(
        {"name": "o", "type": "success", "schema": {}, "output_body": True, "output_path": "$.a"}
    )
    error = assert_error(request_with(actions=[action]), InvalidRequest, "actions.0.outcomes.0")
    assert "output_body, output_path" in error.message


def test_invalid_json_schema() -> None:
    """A schema that is not a valid JSON Schema raises InvalidJsonSchema naming ``schema``."""
    action = post_action_with({"name": "o", "type": "heartbeat", "schema": {"type": 12}})
    assert_error(request_with(actions=[action]), InvalidJsonSchema, "actions.0.outcomes.0.schema")


def test_unknown_json_schema_dialect() -> None:
    """A ``$schema`` we do not know is refused rather than silently validated as another draft."""
    action = post_action_with(
        {"name": "o", "type": "heartbeat", "schema": {"$schema": "https://example.com/s"}}
    )
    assert_error(request_with(actions=[action]), InvalidJsonSchema, "actions.0.outcomes.0.schema")


@pytest.mark.parametrize("field", ["error_path", "cause_path"])
def test_invalid_json_path_on_failure_outcome(field: str) -> None:
    """An unparseable JSONPath raises InvalidJsonPath naming the path field."""
    action = post_action_with({"name": "o", "type": "failure", "schema": {}, field: "$.["})
    assert_error(request_with(actions=[action]), InvalidJsonPath, f"actions.0.outcomes.0.{field}")


def test_invalid_json_path_on_success_outcome() -> None:
    """An unparseable ``output_path`` raises InvalidJsonPath."""
    action = post_action_with({"name": "o", "type": "success", "schema": {}, "output_path": "$.["})
    assert_error(
        request_with(actions=[action]), InvalidJsonPath, "actions.0.outcomes.0.output_path"
    )


def test_compile_json_path_raises_library_error() -> None:
    """compile_json_path raises InvalidJsonPath for a bad path."""
    with pytest.raises(InvalidJsonPath):
        compile_json_path("$.[")


def test_mixed_error_kinds_are_invalid_request() -> None:
    """Errors of different kinds together raise the generic InvalidRequest listing them all."""
    action = post_action_with(
        {"name": "o", "type": "failure", "schema": {"type": 12}, "error_path": "$.["}
    )
    error = assert_error(
        request_with(actions=[action]), InvalidRequest, "actions.0.outcomes.0.schema"
    )
    assert "actions.0.outcomes.0.error_path" in [loc for loc, _ in error.errors]


def test_expiration_in_the_past() -> None:
    """An expiration before ``now`` raises InvalidDate."""
    error = assert_error(request_with(expiration="2025-12-31T23:59:59Z"), InvalidDate, "expiration")
    assert "past" in error.message


def test_expiration_compared_with_wall_clock_by_default() -> None:
    """Without ``now``, the expiration is compared with the wall clock."""
    past = (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat()
    with pytest.raises(InvalidDate):
        parse_create_urls_request(request_with(expiration=past))


@pytest.mark.parametrize(
    "expiration", ["tomorrow", "2099-13-01T00:00:00Z", "1700000000", 1700000000, ""]
)
def test_unparseable_expiration(expiration: Any) -> None:
    """An expiration that is not an ISO 8601 date-time string raises InvalidDate."""
    assert_error(request_with(expiration=expiration), InvalidDate, "expiration")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2099-01-01T00:00:00", datetime(2099, 1, 1, tzinfo=timezone.utc)),
        ("2099-01-01T10:30:00.5", datetime(2099, 1, 1, 10, 30, 0, 500000, tzinfo=timezone.utc)),
        ("2099-01-01", datetime(2099, 1, 1, tzinfo=timezone.utc)),
    ],
)
def test_naive_expiration_text_is_utc(text: str, expected: datetime) -> None:
    """An expiration as text without a timezone is UTC, as the original's Lambda clock was."""
    for data in (request_with(expiration=text), json.dumps(request_with(expiration=text))):
        request = parse_create_urls_request(data, now=NOW)
        assert request.expiration == expected
        assert request.expiration is not None
        assert request.expiration.tzinfo is timezone.utc
        assert request.model_dump(mode="json")["expiration"].endswith("Z")


def test_naive_expiration_text_in_the_past_is_invalid_date() -> None:
    """A naive expiration is compared as UTC: one second before ``now`` is in the past."""
    error = assert_error(request_with(expiration="2025-12-31T23:59:59"), InvalidDate, "expiration")
    assert "past" in error.message


def test_naive_expiration_datetime_is_refused() -> None:
    """A naive ``datetime`` object (Python, not the JSON contract) still needs a timezone."""
    error = assert_error(request_with(expiration=datetime(2099, 1, 1)), InvalidDate, "expiration")
    assert "timezone" in error.message


def test_expiration_normalized_to_utc() -> None:
    """An expiration with an offset is converted to UTC."""
    request = parse_create_urls_request(
        request_with(expiration="2099-01-01T02:00:00+02:00"), now=NOW
    )
    assert request.expiration == datetime(2099, 1, 1, tzinfo=timezone.utc)
    assert request.expiration is not None
    assert request.expiration.tzinfo is timezone.utc


def test_expiration_relative_to_given_now() -> None:
    """``now`` in the validation context decides what is in the past."""
    data = request_with(expiration="2030-01-01T00:00:00Z")
    assert parse_create_urls_request(data, now=NOW).expiration is not None
    with pytest.raises(InvalidDate):
        parse_create_urls_request(data, now=datetime(2031, 1, 1, tzinfo=timezone.utc))
    later = {"now": datetime(2031, 1, 1, tzinfo=timezone.utc)}
    with pytest.raises(ValidationError):
        CreateUrlsRequest.model_validate(data, context=later)


def test_naive_now_is_a_programming_error() -> None:
    """A naive ``now`` raises ValueError, not a request error."""
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_create_urls_request(request_with(), now=datetime(2026, 1, 1))


def test_redirect_wins_over_bodies() -> None:
    """A redirect with json/html/text is accepted and kept alone, as the original README says."""
    response = {"redirect": "https://example.com", "html": "<p>hi</p>", "json": {"a": 1}}
    actions = [{"name": "a", "type": "heartbeat", "response": response}]
    request = parse_create_urls_request(request_with(actions=actions), now=NOW)
    assert request.actions[0].response == ResponseSpec(redirect="https://example.com")


def test_redirect_wins_in_python_models_too() -> None:
    """Built in Python, a ResponseSpec with a redirect drops its bodies the same way."""
    spec = ResponseSpec(redirect="https://example.com/x", text="hi", json_={"a": 1})
    assert (spec.redirect, spec.json_, spec.html, spec.text) == (
        "https://example.com/x",
        None,
        None,
        None,
    )
    assert spec == ResponseSpec.model_validate({"redirect": "https://example.com/x", "html": "h"})
    assert ResponseSpec(text="hi", redirect=None).text == "hi"


def test_redirect_wins_but_is_still_checked() -> None:
    """The bodies are dropped, but a bad redirect next to them is still refused."""
    response = {"redirect": "ftp://example.com", "text": "hi"}
    actions = [{"name": "a", "type": "heartbeat", "response": response}]
    assert_error(request_with(actions=actions), InvalidRequest, "actions.0.response.redirect")


@pytest.mark.parametrize(
    "redirect",
    [
        "javascript:alert(1)",
        "ftp://example.com/",
        "/relative",
        "https://",
        "https://exa mple.com",
        "https:\\\\evil.com",
    ],
)
def test_bad_redirect(redirect: str) -> None:
    """A redirect that is not an absolute http(s) URL is refused."""
    actions = [{"name": "a", "type": "heartbeat", "response": {"redirect": redirect}}]
    assert_error(request_with(actions=actions), InvalidRequest, "actions.0.response.redirect")


@pytest.mark.parametrize(
    "base_url",
    ["https://example.com/prod?x=1", "https://example.com/prod#f", "mailto:a@b.c", "example.com"],
)
def test_bad_base_url(base_url: str) -> None:
    """A base_url must be an absolute http(s) URL without query or fragment."""
    assert_error(request_with(base_url=base_url), InvalidRequest, "base_url")


def test_good_base_url() -> None:
    """An http(s) base URL with a path is accepted as given."""
    url = "https://abc.execute-api.us-east-1.amazonaws.com/prod"
    assert parse_create_urls_request(request_with(base_url=url)).base_url == url


def test_missing_token() -> None:
    """A request without a token raises InvalidRequest naming ``token``."""
    data = request_with()
    del data["token"]
    assert_error(data, InvalidRequest, "token")


def test_token_too_long_is_not_echoed() -> None:
    """An over-long token is refused without the token appearing in the message."""
    token = "x" * 2049
    with pytest.raises(InvalidRequest) as info:
        parse_create_urls_request(request_with(token=token))
    assert [loc for loc, _ in info.value.errors] == ["token"]
    assert token not in info.value.message


def test_token_misplaced_is_redacted() -> None:
    """Even a token pasted into another field (here ``type``) is redacted from messages."""
    data = json.dumps(request_with(actions=[{"name": "a", "type": TOKEN}]))
    error = assert_error(data, InvalidRequest, "actions.0")
    assert "<redacted>" in error.message


def test_validation_error_hides_token() -> None:
    """Even pydantic's own ValidationError text (e.g. when logged) does not show the token."""
    with pytest.raises(ValidationError) as info:
        CreateUrlsRequest(token=TOKEN, actions=[])
    assert TOKEN not in str(info.value)
    with pytest.raises(ValidationError) as info:
        CreateUrlsRequest.model_validate({"token": TOKEN * 100, "actions": []})
    assert TOKEN not in str(info.value)


def test_short_token_does_not_garble_messages() -> None:
    """Only real-length tokens are redacted, so a one-letter token leaves messages readable."""
    with pytest.raises(InvalidRequest) as info:
        parse_create_urls_request({"token": "e", "actions": [], "extra": 1})
    assert "Extra inputs are not permitted" in info.value.message


def test_extra_top_level_field() -> None:
    """An unknown top-level field raises InvalidRequest naming it."""
    assert_error(request_with(callback="x"), InvalidRequest, "callback")


def test_strict_booleans() -> None:
    """``enable_output_parameters`` must be a JSON boolean, not a string."""
    assert_error(
        request_with(enable_output_parameters="yes"), InvalidRequest, "enable_output_parameters"
    )


@pytest.mark.parametrize(
    "text", ["{not json", b"\xff\xfe", '{"token": "' + TOKEN + '", "actions": [']
)
def test_not_json(text: str | bytes) -> None:
    """Text that is not JSON raises InvalidJson, code InvalidJSON as in the original."""
    error = assert_error(text, InvalidJson, "")
    assert error.code == "InvalidJSON"


@pytest.mark.parametrize("text", ['{"token": "t", "actions": [], "n": NaN}', "[1, Infinity]"])
def test_json_constants_are_not_json(text: str) -> None:
    """NaN and Infinity are not JSON: InvalidJson."""
    assert_error(text, InvalidJson, "")


def test_parse_action_errors_use_library_error() -> None:
    """parse_action raises InvalidRequest with the field path relative to the action."""
    with pytest.raises(InvalidRequest) as info:
        parse_action({"name": "a-b", "type": "success", "output": 1})
    assert info.value.errors[0][0] == "name"
    assert info.value.message.startswith("name: ")
    with pytest.raises(InvalidRequest):
        parse_action(b"not json")


def test_error_dict_is_contract_shape() -> None:
    """The raised error renders as the contract's ``{"error", "message"}`` body."""
    with pytest.raises(InvalidRequest) as info:
        parse_create_urls_request(request_with(expiration="2000-01-01T00:00:00Z"))
    assert info.value.to_dict() == {
        "error": "InvalidDate",
        "message": "expiration: the expiration is in the past",
    }


# --- round trips ------------------------------------------------------------------------------

ROUND_TRIP_ACTIONS: list[dict[str, Any]] = [
    *README_REQUEST["actions"],
    *BLOG_REQUEST["actions"],
    README_POST_ACTION,
    {"name": "nullout", "type": "success", "output": None, "confirm": True},
    {"name": "redir", "type": "heartbeat", "response": README_RESPONSES[0]},
    {"name": "bodies", "type": "failure", "response": README_RESPONSES[1]},
    post_action_with(
        {"name": "s", "type": "success", "schema": {}, "output": [1, "x"]},
        {"name": "p", "type": "success", "schema": {}, "output_path": "$.items[*]"},
        {"name": "n", "type": "success", "schema": {}, "output": None},
        {"name": "f", "type": "failure", "schema": {}, "error": "E", "cause_path": "$.why"},
        {"name": "h", "type": "heartbeat", "schema": {"type": "object"}, "response": {"text": "t"}},
    ),
]


@pytest.mark.parametrize("data", ROUND_TRIP_ACTIONS)
def test_action_round_trip(data: dict[str, Any]) -> None:
    """Dumping an action to JSON (by alias) and parsing it back gives an equal action."""
    action = parse_action(data)
    dumped = action.model_dump(mode="json", by_alias=True)
    assert parse_action(dumped) == action
    assert action.model_dump(mode="json") == dumped
    assert ACTION_ADAPTER.validate_json(ACTION_ADAPTER.dump_json(action)) == action
    # The blob codec's compact form: no defaults, so no ``type``; the class parses it back.
    compact = action.model_dump_json(by_alias=True, exclude_defaults=True)
    assert '"type"' not in compact.split('"outcomes"')[0]
    assert type(action).model_validate_json(compact) == action, compact


def test_null_output_is_kept() -> None:
    """A success action's ``output`` may be ``null`` but must be present."""
    action = parse_action({"name": "a", "type": "success", "output": None})
    assert isinstance(action, SuccessAction)
    assert action.output is None
    assert "output" in action.model_dump(exclude_none=False)


def test_python_construction_with_defaults() -> None:
    """Actions and outcomes can be built in Python without spelling ``type``."""
    post = PostAction(
        name="cb",
        outcomes=[HeartbeatOutcome(name="h", schema={}), SuccessOutcome(name="s", schema={})],
    )
    assert post.type == "post"
    assert parse_action(post.model_dump(mode="json")) == post


def test_response_contract_shape() -> None:
    """The response dumps to exactly ``{"transaction_id", "urls", "expiration"?}`` with Z time."""
    urls = {"approve": "https://example.com/respond?action=approve&type=success&data=x"}
    with_expiry = CreateUrlsResponse(
        transaction_id="abc",
        urls=urls,
        expiration=datetime(2026, 11, 25, 11, tzinfo=timezone(timedelta(hours=1))),
    )
    assert with_expiry.model_dump(mode="json", exclude_none=True) == {
        "transaction_id": "abc",
        "urls": urls,
        "expiration": "2026-11-25T10:00:00Z",
    }
    without = CreateUrlsResponse(transaction_id="abc", urls=urls)
    assert without.model_dump(mode="json", exclude_none=True) == {
        "transaction_id": "abc",
        "urls": urls,
    }
    assert json.loads(with_expiry.model_dump_json(exclude_none=True))["expiration"] == (
        "2026-11-25T10:00:00Z"
    )


def test_response_refuses_naive_expiration() -> None:
    """A response expiration must be timezone-aware."""
    with pytest.raises(ValidationError):
        CreateUrlsResponse(transaction_id="t", urls={}, expiration=datetime(2026, 1, 1))


def test_request_dump_round_trips() -> None:
    """A request dumped to JSON parses back to an equal request."""
    request = parse_create_urls_request(README_REQUEST)
    dumped = request.model_dump(mode="json")
    assert dumped["expiration"] == FAR_FUTURE
    assert parse_create_urls_request(dumped) == request


@pytest.mark.parametrize(
    "output",
    ["\ud800", {"\udfff": 1}, [1, float("inf")], float("nan"), {"a": [float("-inf")]}],
)
def test_outputs_json_cannot_carry_are_refused(output: Any) -> None:
    """Lone surrogates and non-finite numbers are refused, not minted into broken or null output."""
    request = {"token": "abc", "actions": [{"name": "a", "type": "success", "output": output}]}
    with pytest.raises(InvalidRequest, match=r"actions\.0\.output"):
        parse_create_urls_request(request)


def test_surrogate_in_a_json_path_is_a_clean_error() -> None:
    """A JSONPath holding a lone surrogate is InvalidJsonPath, with an encodable message."""
    outcome = {"name": "o", "type": "failure", "schema": {}, "cause_path": "\ud800"}
    request = {"token": "abc", "actions": [{"name": "p", "type": "post", "outcomes": [outcome]}]}
    with pytest.raises(InvalidJsonPath) as caught:
        parse_create_urls_request(request)
    caught.value.message.encode("utf-8")


# --- the original app's looser JSON contract ------------------------------------------------


def test_unknown_fields_inside_actions_are_ignored_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Unknown fields in actions, outcomes and responses are dropped; one warning names them."""
    post = {
        "name": "form",
        "type": "post",
        "note": "for humans",
        "outcomes": [
            {"name": "ok", "type": "success", "schema": {}, "ouptut": 1},
            {"name": "no", "type": "failure", "schema": {}, "response": {"txt": "x"}},
        ],
    }
    approve = {
        "name": "approve",
        "type": "success",
        "output": {"extra": "kept: a value, not a field"},
        "respnse": {"text": "typo"},
        "response": {"text": "done", "status": 201},
    }
    caplog.set_level("WARNING", logger="sfn_callback_urls")
    for data in (
        request_with(actions=[approve, post]),
        json.dumps(request_with(actions=[approve, post])),
    ):
        caplog.clear()
        request = parse_create_urls_request(data, now=NOW)
        assert request.actions[0] == SuccessAction(
            name="approve",
            output={"extra": "kept: a value, not a field"},
            response=ResponseSpec(text="done"),
        )
        assert request.actions[1] == PostAction(
            name="form",
            outcomes=[
                SuccessOutcome(name="ok", schema={}),
                FailureOutcome(name="no", schema={}, response=ResponseSpec()),
            ],
        )
        warnings = [record for record in caplog.records if record.levelname == "WARNING"]
        assert len(warnings) == 1
        message = warnings[0].getMessage()
        for path in (
            "actions.0.respnse",
            "actions.0.response.status",
            "actions.1.note",
            "actions.1.outcomes.0.ouptut",
            "actions.1.outcomes.1.response.txt",
        ):
            assert path in message
        assert "extra" not in message


def test_known_requests_log_no_warning(caplog: pytest.LogCaptureFixture) -> None:
    """A request without unknown fields parses without a warning, and the caller's dict is kept."""
    caplog.set_level("WARNING", logger="sfn_callback_urls")
    data = request_with(actions=[{"name": "a", "type": "heartbeat", "response": {"text": "t"}}])
    before = json.dumps(data)
    parse_create_urls_request(data, now=NOW)
    assert caplog.records == []
    assert json.dumps(data) == before


def test_unknown_fields_are_not_mutated_away_from_the_callers_dict() -> None:
    """Dropping unknown fields works on copies: the caller's request is unchanged."""
    data = request_with(actions=[{"name": "a", "type": "heartbeat", "x": 1, "response": {"y": 2}}])
    before = json.dumps(data)
    parse_create_urls_request(data, now=NOW)
    assert json.dumps(data) == before


def test_a_token_used_as_a_field_name_never_reaches_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An unknown field whose name is not a plain word is logged as <?>, never repeated."""
    caplog.set_level("WARNING", logger="sfn_callback_urls")
    data = request_with(actions=[{"name": "a", "type": "heartbeat", TOKEN: True}])
    parse_create_urls_request(data, now=NOW)
    assert TOKEN not in caplog.text
    assert TOKEN[:20] not in caplog.text
    assert "actions.0.<?>" in caplog.text


def test_python_models_still_forbid_unknown_fields() -> None:
    """Outside the JSON contract (models, parse_action), unknown fields are still refused."""
    with pytest.raises(ValidationError):
        SuccessAction.model_validate({"name": "a", "output": 1, "extra": 1})
    with pytest.raises(InvalidRequest, match=r"extra"):
        parse_action({"name": "a", "type": "heartbeat", "extra": 1})
    with pytest.raises(ValidationError):
        ResponseSpec.model_validate({"text": "t", "status": 201})


def test_unknown_fields_of_unknown_types_are_left_to_validation() -> None:
    """An action of an unknown type is refused as before, whatever its other fields."""
    assert_error(
        request_with(actions=[{"name": "a", "type": "nope", "x": 1}]), InvalidRequest, "actions.0"
    )


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        (
            {"api_id": "abc123defg", "stage": "v1"},
            "https://abc123defg.execute-api.eu-west-1.amazonaws.com/v1",
        ),
        (
            {"api_id": "abc123defg", "stage": "prod", "region": "us-east-2"},
            "https://abc123defg.execute-api.us-east-2.amazonaws.com/prod",
        ),
        (
            {"api_id": "abc123defg", "stage": "v1", "region": "cn-north-1"},
            "https://abc123defg.execute-api.cn-north-1.amazonaws.com.cn/v1",
        ),
    ],
)
def test_base_url_object_is_the_api_gateway_url(
    monkeypatch: pytest.MonkeyPatch, base_url: dict[str, str], expected: str
) -> None:
    """The original's base_url object is its API's URL; the region defaults to AWS_REGION."""
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    request = parse_create_urls_request(request_with(base_url=base_url), now=NOW)
    assert request.base_url == expected


def test_base_url_object_region_falls_back_to_aws_default_region(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without AWS_REGION the region is AWS_DEFAULT_REGION (the original's boto3 session's)."""
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-south-1")
    request = parse_create_urls_request(
        request_with(base_url={"api_id": "x1", "stage": "v1"}), now=NOW
    )
    assert request.base_url == "https://x1.execute-api.ap-south-1.amazonaws.com/v1"


@pytest.mark.parametrize(
    "base_url",
    [
        {"api_id": "abc", "stage": "v1", "region": "us-east-1", "extra": 1},
        {"api_id": "abc"},
        {"stage": "v1"},
        {"api_id": "abc/evil.example", "stage": "v1", "region": "us-east-1"},
        {"api_id": "abc", "stage": "v1/../x", "region": "us-east-1"},
        {"api_id": "abc", "stage": "v1", "region": "evil.example/"},
        {"api_id": 1, "stage": "v1", "region": "us-east-1"},
        {"api_id": "abc", "stage": "v1"},  # no region anywhere
    ],
)
def test_bad_base_url_objects_are_refused(
    monkeypatch: pytest.MonkeyPatch, base_url: dict[str, Any]
) -> None:
    """An object base_url with unknown, missing or unsafe parts, or no region, is refused."""
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    assert_error(request_with(base_url=base_url), InvalidRequest, "base_url")
