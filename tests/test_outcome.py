"""Tests of outcome.py: a verified callback (and a POST body) to a Completion and a response."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import pytest

from helpers import synthetic_token  # tests/ is on sys.path
from original_readme import README_POST_ACTION  # tests/ is on sys.path
from sfn_callback_urls._claims import Claims
from sfn_callback_urls._complete import Completion
from sfn_callback_urls._models import Action, FailureOutcome, ResponseSpec, SuccessOutcome
from sfn_callback_urls._outcome import (
    MAX_POST_BODY_DEPTH,
    MAX_POST_BODY_SIZE,
    ResolvedOutcome,
    is_json_media_type,
    parse_json_body,
    resolve_outcome,
    substitute,
)
from sfn_callback_urls._urls import OpenedCallback
from sfn_callback_urls._validation import parse_action
from sfn_callback_urls.errors import (
    InvalidJsonPath,
    InvalidPostActionBody,
    MissingParameter,
    OutputFormatting,
    ParametersDisabled,
    PayloadTooLarge,
    UnsupportedMediaType,
)

TOKEN = synthetic_token()
TID = "0b6d5f7e-1f0a-4c59-9a51-3f1d2b8e6a10"
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def opened(
    action: Action | Mapping[str, Any],
    params: Mapping[str, str] | None = None,
    *,
    output_parameters: bool = False,
) -> OpenedCallback:
    """A verified callback for ``action`` with the query parameters ``params``."""
    parsed = parse_action(dict(action)) if isinstance(action, Mapping) else action
    claims = Claims(
        token=TOKEN,
        action=parsed,
        transaction_id=TID,
        issued_at=NOW,
        output_parameters=output_parameters,
    )
    return OpenedCallback(claims=claims, params=dict(params or {}))


def with_params(
    action: Mapping[str, Any], params: Mapping[str, str], **kwargs: Any
) -> ResolvedOutcome:
    """Resolve ``action`` with output parameters enabled on both sides."""
    return resolve_outcome(
        opened(action, params, output_parameters=True), enable_output_parameters=True, **kwargs
    )


def post(action: Mapping[str, Any], body: Any, content_type: str = "application/json") -> Any:
    """Resolve a POST action with ``body`` (JSON-encoded unless bytes)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return resolve_outcome(opened(action), body=data, content_type=content_type)


# --- plain actions ----------------------------------------------------------------------------


def test_success_action_gives_its_output() -> None:
    """A success action resolves to SendTaskSuccess with its fixed output and response."""
    action = {"name": "approve", "type": "success", "output": {"ok": True}, "response": {}}
    resolved = resolve_outcome(opened(action))
    assert resolved.completion == Completion.success(TOKEN, {"ok": True})
    assert resolved.response == ResponseSpec()
    assert resolved.post_outcome is None


def test_failure_action_gives_error_and_cause() -> None:
    """A failure action resolves to SendTaskFailure with its error and cause."""
    action = {"name": "reject", "type": "failure", "error": "rejected", "cause": "Ben said no"}
    resolved = resolve_outcome(opened(action))
    assert resolved.completion == Completion.failure(TOKEN, "rejected", "Ben said no")
    assert resolved.response is None


def test_heartbeat_action_gives_heartbeat() -> None:
    """A heartbeat action resolves to SendTaskHeartbeat."""
    resolved = resolve_outcome(opened({"name": "wait", "type": "heartbeat"}))
    assert resolved.completion == Completion.heartbeat(TOKEN)


def test_templates_untouched_without_output_parameters() -> None:
    """Without output parameters in the blob, '$' strings are sent as they are."""
    action = {"name": "approve", "type": "success", "output": {"who": "$who"}}
    resolved = resolve_outcome(opened(action, {"who": "Ben"}), enable_output_parameters=True)
    assert resolved.completion.output == {"who": "$who"}


# --- output parameters ------------------------------------------------------------------------


def test_output_parameters_fill_keys_and_values() -> None:
    """Every string of the output is filled: dict keys and values, list items; non-strings stay.

    Keys too, as the original's formatter did (``{"$k": "v $who"}`` with ``k=key`` gave
    ``{"key": ...}``).
    """
    action = {
        "name": "approve",
        "type": "success",
        "output": {"$who": "$who", "list": ["a $who", 1, None, {"${who}_x": "${who}!"}], "n": 2},
    }
    resolved = with_params(action, {"who": "Ben"})
    assert resolved.completion.output == {
        "Ben": "Ben",
        "list": ["a Ben", 1, None, {"Ben_x": "Ben!"}],
        "n": 2,
    }


def test_output_parameter_in_a_key_must_be_given() -> None:
    """A key that names a missing parameter is refused like a value would be."""
    action = {"name": "approve", "type": "success", "output": {"$who": 1}}
    with pytest.raises(MissingParameter):
        with_params(action, {"someone": "Ben"})


def test_response_json_keys_are_filled_too() -> None:
    """The custom JSON response's keys take parameters, as the task output's do."""
    action = {
        "name": "approve",
        "type": "success",
        "output": 1,
        "response": {"json": {"$who": ["$who"]}},
    }
    resolved = with_params(action, {"who": "Ben"})
    assert resolved.response is not None
    assert resolved.response.json_ == {"Ben": ["Ben"]}


def test_output_parameters_see_action_and_type_but_not_data() -> None:
    """The query's action and type are parameters too; data never is."""
    action = {"name": "approve", "type": "success", "output": "$action/$type"}
    resolved = with_params(action, {"action": "approve", "type": "success", "data": "blob"})
    assert resolved.completion.output == "approve/success"
    leaky = {"name": "approve", "type": "success", "output": "$data"}
    with pytest.raises(MissingParameter):
        with_params(leaky, {"data": "blob"})


def test_output_parameters_fill_failure_error_and_cause() -> None:
    """A failure's error and cause are filled."""
    action = {"name": "reject", "type": "failure", "error": "E_$code", "cause": "by $who"}
    resolved = with_params(action, {"code": "42", "who": "Ben"})
    assert resolved.completion == Completion.failure(TOKEN, "E_42", "by Ben")


def test_output_parameters_fill_response_strings() -> None:
    """The response's json keys and values and its text are filled with the raw values."""
    action = {
        "name": "wait",
        "type": "heartbeat",
        "response": {"json": {"msg": "hi $who", "$who": 1}, "text": "hi $who"},
    }
    resolved = with_params(action, {"who": "<Ben>"})
    assert resolved.response is not None
    assert resolved.response.json_ == {"msg": "hi <Ben>", "<Ben>": 1}
    assert resolved.response.text == "hi <Ben>"


def test_output_parameters_are_html_escaped_in_html() -> None:
    """Values substituted into response.html are HTML-escaped; the minter's HTML is kept."""
    action = {
        "name": "approve",
        "type": "success",
        "output": "$who",
        "response": {"html": "<p class='x'>Thanks, $who</p>"},
    }
    resolved = with_params(action, {"who": "<script>alert('x')</script>&"})
    assert resolved.response is not None
    assert resolved.response.html == (
        "<p class='x'>Thanks, &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&amp;</p>"
    )
    assert resolved.completion.output == "<script>alert('x')</script>&"


def test_output_parameters_disabled_on_handler() -> None:
    """A blob that asks for output parameters is refused when the handler disables them."""
    action = {"name": "approve", "type": "success", "output": "$who"}
    with pytest.raises(ParametersDisabled) as info:
        resolve_outcome(opened(action, {"who": "Ben"}, output_parameters=True))
    assert (info.value.code, info.value.status) == ("ParametersDisabled", 400)


def test_missing_parameter_is_output_formatting() -> None:
    """A template naming an absent parameter raises MissingParameter (code OutputFormatting)."""
    action = {"name": "approve", "type": "success", "output": {"who": "$who"}}
    with pytest.raises(MissingParameter) as info:
        with_params(action, {})
    assert (info.value.code, info.value.status) == ("OutputFormatting", 400)
    assert info.value.parameter == "who"


def test_malformed_template_is_output_formatting() -> None:
    """A lone '$' is an OutputFormatting error."""
    action = {"name": "approve", "type": "success", "output": "costs 5$"}
    with pytest.raises(OutputFormatting):
        with_params(action, {})


def test_dollar_dollar_is_a_literal_dollar() -> None:
    """'$$' stands for '$' under output parameters, as with string.Template."""
    assert substitute("$$5 for $who", {"who": "Ben"}) == "$5 for Ben"


# --- redirects with output parameters ---------------------------------------------------------


def redirect(template: str, params: Mapping[str, str]) -> str | None:
    """The redirect resolved from ``template`` and ``params``."""
    action = {"name": "approve", "type": "success", "output": 1, "response": {"redirect": template}}
    resolved = with_params(action, params)
    assert resolved.response is not None
    return resolved.response.redirect


def test_redirect_takes_parameters_in_path_and_query() -> None:
    """Parameters fill a redirect's path and query, percent-encoded."""
    url = redirect(
        "https://example.com/done/$id?who=$who#$frag", {"id": "7", "who": "B n", "frag": "x"}
    )
    assert url == "https://example.com/done/7?who=B%20n#x"


@pytest.mark.parametrize(
    "value", ["@evil.com", "//evil.com", "/../x", "x\r\nSet-Cookie: a=b", "x#@evil.com/", "a?b&c=d"]
)
def test_redirect_values_cannot_escape_their_component(value: str) -> None:
    """A parameter value stays one encoded component: same host, no line breaks."""
    url = redirect("https://example.com/$p", {"p": value})
    assert url is not None
    assert url.startswith("https://example.com/")
    assert "/" not in url[len("https://example.com/") :]
    assert "\n" not in url
    assert "@" not in url


@pytest.mark.parametrize(
    "template",
    [
        "https://$host/done",
        "https://example.com$suffix/done",
        "https://a$x.example.com/done",
        "https://$user@example.com/done",
    ],
)
def test_redirect_host_injection_refused(template: str) -> None:
    """A redirect template with '$' in its scheme or host is refused: no open redirect."""
    with pytest.raises(OutputFormatting):
        redirect(
            template, {"host": "evil.com", "suffix": ".evil.com", "x": ".evil.com/", "user": "u"}
        )


def test_redirect_without_parameters_is_unchanged() -> None:
    """Without output parameters a redirect is served as minted."""
    action = {
        "name": "approve",
        "type": "success",
        "output": 1,
        "response": {"redirect": "https://example.com/a?b=c"},
    }
    resolved = resolve_outcome(opened(action))
    assert resolved.response is not None
    assert resolved.response.redirect == "https://example.com/a?b=c"


# --- POST actions -----------------------------------------------------------------------------


def test_readme_post_happy_outcome_outputs_the_body() -> None:
    """The README's happy outcome sends the whole body as output."""
    body = {"result": "good", "extra": [1, 2]}
    resolved = post(README_POST_ACTION, body)
    assert resolved.completion == Completion.success(TOKEN, body)
    assert resolved.post_outcome == "happy"


def test_readme_post_sad_outcome_takes_error_from_path() -> None:
    """The README's sad outcome fails with the error selected by error_path."""
    resolved = post(README_POST_ACTION, {"result": "bad", "reason": "too late"})
    assert resolved.completion == Completion.failure(TOKEN, "too late", None)
    assert resolved.post_outcome == "sad"


def test_post_no_outcome_matches() -> None:
    """A body no schema accepts is InvalidPostActionBody (400)."""
    with pytest.raises(InvalidPostActionBody) as info:
        post(README_POST_ACTION, {"result": "meh"})
    assert info.value.status == 400


def test_post_first_matching_outcome_wins() -> None:
    """Outcomes are tried in order; the first match is taken."""
    action = {
        "name": "cb",
        "type": "post",
        "outcomes": [
            {"name": "first", "type": "heartbeat", "schema": {"type": "object"}},
            {"name": "second", "type": "success", "schema": {}},
        ],
    }
    assert post(action, {}).post_outcome == "first"
    assert post(action, []).post_outcome == "second"


def test_post_output_path_is_always_a_list() -> None:
    """output_path gives the list of matches, even for one or none."""
    action = {
        "name": "cb",
        "type": "post",
        "outcomes": [{"name": "ok", "type": "success", "schema": {}, "output_path": "$.a[*]"}],
    }
    assert post(action, {"a": [1, {"b": 2}]}).completion.output == [1, {"b": 2}]
    assert post(action, {"a": []}).completion.output == []


def test_post_output_path_on_a_null_body_is_null() -> None:
    """A JSON ``null`` body gives a ``null`` output, as the original's output_path did."""
    action = {
        "name": "cb",
        "type": "post",
        "outcomes": [{"name": "ok", "type": "success", "schema": {}, "output_path": "$"}],
    }
    assert post(action, None).completion.output is None
    assert post(action, 0).completion.output == [0]


def test_post_fixed_and_default_outputs() -> None:
    """A success outcome without a source sends {}; a fixed output is sent as is."""
    action = {
        "name": "cb",
        "type": "post",
        "outcomes": [
            {"name": "fixed", "type": "success", "schema": {"type": "array"}, "output": [1]},
            {"name": "empty", "type": "success", "schema": {}},
        ],
    }
    assert post(action, []).completion.output == [1]
    assert post(action, {}).completion.output == {}


#: A POST action whose failure takes its error and cause from the body by JSONPath.
ERROR_AND_CAUSE_PATHS = {
    "name": "cb",
    "type": "post",
    "outcomes": [
        {
            "name": "bad",
            "type": "failure",
            "schema": {},
            "error_path": "$.code",
            "cause_path": "$.why[*]",
        }
    ],
}


@pytest.mark.parametrize(
    ("body", "error", "cause"),
    [
        ({"code": 42, "why": ["a", "b"]}, "[42]", '["a", "b"]'),
        ({"code": "E", "why": ["only"]}, "E", "only"),
        ({}, None, None),
    ],
    ids=["json-text", "one-string", "no-match"],
)
def test_post_error_and_cause_paths(body: Any, error: str | None, cause: str | None) -> None:
    """One string match is that string; otherwise the JSON text of the matches; none is None."""
    completion = post(ERROR_AND_CAUSE_PATHS, body).completion
    assert (completion.error, completion.cause) == (error, cause)


def test_post_path_strings_are_the_originals_json_dumps() -> None:
    """Non-string matches become exactly the original's ``json.dumps(matches)`` (ASCII, ", ")."""
    body = {"code": {"bar": "baz"}, "why": ["a", "\u00e9"]}
    completion = post(ERROR_AND_CAUSE_PATHS, body).completion
    assert completion.error == '[{"bar": "baz"}]'
    assert completion.cause == '["a", "\\u00e9"]'
    assert completion.cause == json.dumps(["a", "\u00e9"])


def test_post_fixed_error_and_cause() -> None:
    """A failure outcome's fixed error and cause are used."""
    action = {
        "name": "cb",
        "type": "post",
        "outcomes": [
            {"name": "no", "type": "failure", "schema": {}, "error": "E", "cause": "C"},
        ],
    }
    assert post(action, 1).completion == Completion.failure(TOKEN, "E", "C")


def test_post_outcome_response_overrides_action_response() -> None:
    """An outcome's response wins over the action's; the action's is the fallback."""
    action = {
        "name": "cb",
        "type": "post",
        "response": {"text": "action"},
        "outcomes": [
            {
                "name": "a",
                "type": "heartbeat",
                "schema": {"type": "array"},
                "response": {"text": "a"},
            },
            {"name": "b", "type": "heartbeat", "schema": {}},
        ],
    }
    assert post(action, []).response == ResponseSpec(text="a")
    assert post(action, {}).response == ResponseSpec(text="action")


def test_post_actions_never_use_output_parameters() -> None:
    """POST actions ignore output parameters, even when the blob enables them."""
    action = {
        "name": "cb",
        "type": "post",
        "outcomes": [{"name": "ok", "type": "success", "schema": {}, "output": "$who"}],
    }
    callback = opened(action, {"who": "Ben"}, output_parameters=True)
    resolved = resolve_outcome(callback, body=b"{}", content_type="application/json")
    assert resolved.completion.output == "$who"


@pytest.mark.parametrize(
    ("content_type", "ok"),
    [
        ("application/json", True),
        ("Application/JSON; charset=utf-8", True),
        ("application/merge-patch+json", True),
        ("application/vnd.api+json;v=1", True),
        ("text/plain", False),
        ("application/x-www-form-urlencoded", False),
        ("json", False),
        ("", False),
        (None, False),
    ],
)
def test_json_media_types(content_type: str | None, ok: bool) -> None:
    """application/json and any +json type are JSON; nothing else is."""
    assert is_json_media_type(content_type) is ok


def test_post_body_must_be_json() -> None:
    """A non-JSON Content-Type is UnsupportedMediaType (415)."""
    with pytest.raises(UnsupportedMediaType) as info:
        post(README_POST_ACTION, {"result": "good"}, content_type="text/plain")
    assert info.value.status == 415
    with pytest.raises(UnsupportedMediaType):
        resolve_outcome(opened(README_POST_ACTION))


@pytest.mark.parametrize("body", [b"", b"{", b"\xff\xfe{", b"[NaN]", b'{"a": Infinity}'])
def test_post_body_invalid_json(body: bytes) -> None:
    """Bodies that are not strict JSON are InvalidPostActionBody (400)."""
    with pytest.raises(InvalidPostActionBody):
        parse_json_body(body, "application/json")


def test_post_body_size_cap() -> None:
    """A body over the size cap is PayloadTooLarge (413), before it is parsed."""
    body = b'"' + b"x" * MAX_POST_BODY_SIZE + b'"'
    with pytest.raises(PayloadTooLarge) as info:
        parse_json_body(body, "application/json")
    assert info.value.status == 413


def test_post_body_depth_cap() -> None:
    """A body nested deeper than the cap is refused; one at the cap is accepted."""
    at_cap = b"[" * MAX_POST_BODY_DEPTH + b"]" * MAX_POST_BODY_DEPTH
    assert parse_json_body(at_cap, "application/json") is not None
    over = b"[" * (MAX_POST_BODY_DEPTH + 1) + b"]" * (MAX_POST_BODY_DEPTH + 1)
    with pytest.raises(InvalidPostActionBody):
        parse_json_body(over, "application/json")
    objects = b'{"a":' * (MAX_POST_BODY_DEPTH + 1) + b"1" + b"}" * (MAX_POST_BODY_DEPTH + 1)
    with pytest.raises(InvalidPostActionBody):
        parse_json_body(objects, "application/json")


def test_post_body_recursion_bomb() -> None:
    """A body that would exhaust the parser's recursion is refused, not a crash."""
    body = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(InvalidPostActionBody):
        parse_json_body(body, "application/json")


def test_runaway_schema_becomes_a_library_error() -> None:
    """A schema whose evaluation blows up (a looping $ref) gives InvalidPostActionBody."""
    action = {
        "name": "cb",
        "type": "post",
        "outcomes": [{"name": "loop", "type": "heartbeat", "schema": {"$ref": "#"}}],
    }
    with pytest.raises(InvalidPostActionBody):
        post(action, {})


def test_failing_json_path_becomes_a_library_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """An exception while applying a JSONPath gives InvalidJsonPath."""

    class Exploding:
        def find(self, data: Any) -> list[Any]:
            raise RuntimeError("boom")

    monkeypatch.setattr(SuccessOutcome, "compiled_output_path", lambda self: Exploding())
    monkeypatch.setattr(FailureOutcome, "compiled_error_path", lambda self: Exploding())
    action = {
        "name": "cb",
        "type": "post",
        "outcomes": [
            {"name": "ok", "type": "success", "schema": {"type": "array"}, "output_path": "$"},
            {"name": "no", "type": "failure", "schema": {}, "error_path": "$"},
        ],
    }
    with pytest.raises(InvalidJsonPath):
        post(action, [])
    with pytest.raises(InvalidJsonPath):
        post(action, {})
