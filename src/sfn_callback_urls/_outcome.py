"""From a verified callback (and, for POST actions, the request body) to a Step Functions call.

`resolve_outcome()` decides *what* happens: the `Completion`
to send and the `ResponseSpec` to render. It calls nothing and
changes nothing, so every error it raises comes before the task is touched.

Output parameters (the original app's ``enable_output_parameters``): when both the blob and the
handler allow them, every string of a success ``output`` (dict keys and values, list items), a
failure's ``error``/``cause`` and the response's strings (the keys of its ``json`` too) go through
`string.Template.substitute()` with the query parameters except ``data``. Those values are
whatever the person holding the URL typed, so:

* in ``response.html`` they are HTML-escaped (the rest of that HTML is the minter's, and served
  as is);
* in ``response.redirect`` they are percent-encoded and may only land in the path, query or
  fragment: a template with ``$`` in its scheme or host is refused, and so is any result whose
  scheme or host differs from the template's (no open redirects).

POST actions never use output parameters (as in the original). Their body must be JSON, at most
``MAX_POST_BODY_SIZE`` bytes, ``MAX_POST_BODY_DEPTH`` levels deep and ``MAX_POST_BODY_VALUES``
values (the contract's limits); the first outcome whose JSON Schema accepts it wins.
"""

from __future__ import annotations

import html
import json
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from ._approval import COMMENT_FIELD, ConfirmPage, normalise_comment
from ._claims import Claims
from ._complete import Completion
from ._contract import (
    MAX_POST_BODY_DEPTH,
    MAX_POST_BODY_SIZE,
    MAX_POST_BODY_VALUES,
    QUERY_DATA,
    is_unicode_text,
    refuse_json_constant,
)
from ._http_headers import media_type
from ._http_url import has_unsafe_characters
from ._models import (
    FailureAction,
    FailureOutcome,
    HeartbeatAction,
    HeartbeatOutcome,
    PostAction,
    ResponseSpec,
    SuccessAction,
    SuccessOutcome,
)
from ._schema import JsonPathExpression
from ._urls import OpenedCallback
from .errors import (
    InvalidComment,
    InvalidJsonPath,
    InvalidPostActionBody,
    MissingParameter,
    OutputFormatting,
    ParametersDisabled,
    PayloadTooLarge,
    SfnCallbackUrlsError,
    UnsupportedMediaType,
)

__all__ = [
    "ResolvedOutcome",
    "is_json_media_type",
    "parse_json_body",
    "read_comment",
    "resolve_outcome",
    "substitute",
]


@dataclass(frozen=True)
class ResolvedOutcome:
    """What a callback will do, decided but not done.

    Attributes:
        completion: the Step Functions call to make.
        response: the custom response to render (output parameters already applied), or
            ``None`` for the default one.
        post_outcome: for POST actions, the name of the outcome the body selected.
    """

    completion: Completion
    response: ResponseSpec | None = None
    post_outcome: str | None = None


def resolve_outcome(
    opened: OpenedCallback,
    *,
    enable_output_parameters: bool = False,
    body: bytes | None = None,
    content_type: str | None = None,
    comment: str | None = None,
) -> ResolvedOutcome:
    """Turn a verified callback into the completion to send and the response to render.

    Args:
        opened: the verified claims and the query's parameters (without ``data``).
        enable_output_parameters: whether this handler allows output parameters; they apply
            only when the blob allows them too.
        body: the request body; read only for POST actions.
        content_type: the request's ``Content-Type``; read only for POST actions.
        comment: the approver's comment (`read_comment()`): added to a success's output object
            as ``"comment"``, or a failure's ``cause`` (the sealed one when ``None``).

    Raises:
        ParametersDisabled: the blob asks for output parameters but the handler refuses them.
        MissingParameter: a template names a query parameter the request lacks.
        OutputFormatting: a template is malformed, or a redirect would leave its host.
        UnsupportedMediaType, PayloadTooLarge, InvalidPostActionBody: see
            `parse_json_body()`; ``InvalidPostActionBody`` also when no outcome matches.
        InvalidJsonPath, InvalidJsonSchema: a POST outcome's path or schema cannot be applied.
    """
    claims = opened.claims
    action = claims.action
    if isinstance(action, PostAction):
        return _resolve_post(claims.token, action, parse_json_body(body or b"", content_type))
    params = _output_parameters(claims, opened.params, enabled=enable_output_parameters)
    response = _fill_response(action.response, params)
    if isinstance(action, SuccessAction):
        output = action.output if params is None else _fill(action.output, params)
        if comment is not None:
            if not isinstance(output, dict):  # refused at the mint: never minted by us
                raise OutputFormatting("A comment needs an output that is a JSON object.")
            output = {**output, COMMENT_FIELD: comment}
        return ResolvedOutcome(Completion.success(claims.token, output), response)
    if isinstance(action, FailureAction):
        error, cause = action.error, action.cause
        if params is not None:
            error = None if error is None else substitute(error, params)
            cause = None if cause is None else substitute(cause, params)
        if comment is not None:
            cause = comment
        return ResolvedOutcome(Completion.failure(claims.token, error, cause), response)
    if isinstance(action, HeartbeatAction):
        return ResolvedOutcome(Completion.heartbeat(claims.token), response)
    raise TypeError(f"unknown action type {type(action).__name__}")  # pragma: no cover


# --- output parameters ----------------------------------------------------------------------


def _output_parameters(
    claims: Claims, params: Mapping[str, str], *, enabled: bool
) -> dict[str, str] | None:
    if not claims.output_parameters:
        return None
    if not enabled:
        # The original app's rule: a URL minted with parameters is refused, not quietly
        # completed with unformatted templates, when the deployment turns them off.
        raise ParametersDisabled
    return {name: value for name, value in params.items() if name != QUERY_DATA}


def substitute(template: str, params: Mapping[str, str]) -> str:
    """``string.Template(template).substitute(params)`` with the library's errors.

    Raises:
        MissingParameter: the template names a parameter ``params`` lacks.
        OutputFormatting: the template is malformed (e.g. a lone ``$``).
    """
    try:
        return string.Template(template).substitute(params)
    except KeyError as exc:
        raise MissingParameter(parameter=str(exc.args[0])) from None
    except ValueError as exc:
        raise OutputFormatting(f"The callback output could not be formatted ({exc}).") from None


def _fill(value: Any, params: Mapping[str, str]) -> Any:
    """Substitute into every string of a JSON value: dict keys and values, list items.

    Keys too, as the original app's formatter did; when two keys fill to the same text, the
    later one wins, as it did there.
    """
    if isinstance(value, str):
        return substitute(value, params)
    if isinstance(value, dict):
        return {substitute(key, params): _fill(item, params) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, params) for item in value]
    return value


def _fill_response(
    spec: ResponseSpec | None, params: Mapping[str, str] | None
) -> ResponseSpec | None:
    if spec is None or params is None:
        return spec
    if spec.redirect is not None:
        return spec.model_copy(update={"redirect": _fill_redirect(spec.redirect, params)})
    escaped = {name: html.escape(value, quote=True) for name, value in params.items()}
    return spec.model_copy(
        update={
            "json_": _fill(spec.json_, params),
            "html": None if spec.html is None else substitute(spec.html, escaped),
            "text": None if spec.text is None else substitute(spec.text, params),
        }
    )


def _fill_redirect(template: str, params: Mapping[str, str]) -> str:
    """Fill a redirect template; parameters may change its path, query or fragment only."""
    refused = OutputFormatting("The redirect URL cannot be formatted with these parameters.")
    try:
        before = urlsplit(template)
    except ValueError:
        raise refused from None
    if "$" in before.scheme or "$" in before.netloc:
        raise OutputFormatting("A redirect URL's scheme and host cannot take parameters.")
    # Values were percent-decoded from the query; encode them again so that each one stays a
    # single opaque path or query component (no '/', '?', '#', '@' or line breaks).
    url = substitute(template, {name: quote(value, safe="") for name, value in params.items()})
    try:
        after = urlsplit(url)
    except ValueError:
        raise refused from None
    if (after.scheme, after.netloc) != (before.scheme, before.netloc) or has_unsafe_characters(url):
        raise refused
    return url


# --- POST actions ---------------------------------------------------------------------------


def is_json_media_type(content_type: str | None) -> bool:
    """Whether a ``Content-Type`` is JSON: ``application/json`` or any ``.../...+json``."""
    essence = media_type(content_type)
    main, _, subtype = essence.partition("/")
    return bool(main) and (essence == "application/json" or subtype.endswith("+json"))


def _body_problem(value: Any, depth_limit: int, value_limit: int) -> str | None:
    """What makes a decoded body unusable, or ``None`` (one iterative walk: no recursion).

    At most ``value_limit`` JSON values, arrays and objects nested at most ``depth_limit``
    levels, and no string (object keys included) with a lone surrogate: ``json.loads`` decodes
    the JSON escape of U+D800 to one, and such a string cannot be encoded as UTF-8 for Step
    Functions, a log line or a regex engine.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    values = 0
    while stack:
        item, depth = stack.pop()
        if depth > 0:  # keys are pushed with depth 0: strings to check, not values to count
            values += 1
            if values > value_limit:
                return f"The request body holds more than {value_limit:,} JSON values."
        if isinstance(item, str):
            if not is_unicode_text(item):
                return (
                    "The request body holds a lone surrogate (\\ud800-\\udfff): not Unicode text."
                )
            continue
        if not isinstance(item, (dict, list)):
            continue
        if depth > depth_limit:
            return f"The request body nests more than {depth_limit} levels deep."
        if isinstance(item, dict):
            stack.extend((key, 0) for key in item)
            stack.extend((child, depth + 1) for child in item.values())
        else:
            stack.extend((child, depth + 1) for child in item)
    return None


def parse_json_body(body: bytes, content_type: str | None) -> Any:
    """Decode a POST body as JSON, within bounds, before any schema sees it.

    Raises:
        UnsupportedMediaType: ``content_type`` is not JSON.
        PayloadTooLarge: the body is larger than `MAX_POST_BODY_SIZE`.
        InvalidPostActionBody: the body is not JSON (``NaN`` and ``Infinity`` included), nests
            deeper than ``MAX_POST_BODY_DEPTH``, holds more than ``MAX_POST_BODY_VALUES`` values,
            or holds a lone surrogate (U+D800 to U+DFFF) in a string or key.
    """
    if not is_json_media_type(content_type):
        raise UnsupportedMediaType
    if len(body) > MAX_POST_BODY_SIZE:
        raise PayloadTooLarge(f"The request body is larger than {MAX_POST_BODY_SIZE // 1024} KiB.")
    too_deep = InvalidPostActionBody(
        f"The request body nests more than {MAX_POST_BODY_DEPTH} levels deep."
    )
    try:
        value = json.loads(body, parse_constant=refuse_json_constant)
    except RecursionError:
        raise too_deep from None
    except ValueError:  # JSONDecodeError and UnicodeDecodeError included
        raise InvalidPostActionBody("The request body is not valid JSON.") from None
    problem = _body_problem(value, MAX_POST_BODY_DEPTH, MAX_POST_BODY_VALUES)
    if problem is not None:
        raise InvalidPostActionBody(problem)
    return value


# --- the approver's comment -------------------------------------------------------------------

#: Fields a comment form may have (the confirm page's has one); more is not a form of ours.
_MAX_FORM_FIELDS = 16


def _form_comment(body: bytes) -> str | None:
    """The ``comment`` field of an ``application/x-www-form-urlencoded`` body, as sent."""
    invalid = InvalidComment(reason="invalid_text")
    try:
        fields = parse_qsl(body.decode("utf-8"), errors="strict", max_num_fields=_MAX_FORM_FIELDS)
    except UnicodeDecodeError:  # raw or percent-encoded bytes that are not UTF-8
        raise invalid from None
    except ValueError:
        raise InvalidComment("The form is malformed.", reason="invalid_text") from None
    values = [value for name, value in fields if name == COMMENT_FIELD]
    if len(values) > 1:
        raise InvalidComment("The form holds more than one comment.", reason="invalid_text")
    return values[0] if values else None


def read_comment(body: bytes, content_type: str | None, page: ConfirmPage) -> str | None:
    """The approver's comment in a confirming POST, as it is recorded (or ``None``).

    The body is the confirm page's form (``application/x-www-form-urlencoded``) or a JSON
    object with ``"comment"`` (a string or ``null``); an empty body holds none. The text is
    then normalised and checked by `normalise_comment()`.

    Raises:
        InvalidComment: refused (required and missing, too long, control characters, not
            Unicode) or a malformed form.
        UnsupportedMediaType, PayloadTooLarge, InvalidPostActionBody: a body of another type,
            too large, or JSON that is not an object with a text ``comment``.
    """
    text: str | None = None
    if body.strip():
        if len(body) > MAX_POST_BODY_SIZE:
            raise PayloadTooLarge(
                f"The request body is larger than {MAX_POST_BODY_SIZE // 1024} KiB."
            )
        media_type = (content_type or "").split(";", 1)[0].strip().lower()
        if media_type == "application/x-www-form-urlencoded":
            text = _form_comment(body)
        else:
            data = parse_json_body(body, content_type)  # lone surrogates refused there
            value = data.get(COMMENT_FIELD) if isinstance(data, dict) else None
            if not isinstance(data, dict) or not (value is None or isinstance(value, str)):
                raise InvalidPostActionBody(
                    'The request body must be a JSON object like {"comment": "..."}.'
                )
            text = value
    return normalise_comment(text, page)


def _matches(outcome: SuccessOutcome | FailureOutcome | HeartbeatOutcome, body: Any) -> bool:
    try:
        return outcome.matches(body)
    except SfnCallbackUrlsError:
        raise
    except Exception:  # jsonschema can raise anything (RecursionError on a looping $ref, ...)
        raise InvalidPostActionBody(
            f"The request body could not be checked against outcome {outcome.name!r}."
        ) from None


def _find(path: JsonPathExpression | None, text: str, body: Any) -> list[Any]:
    if path is None:  # pragma: no cover - callers pass a path they know is set
        return []
    try:
        return [match.value for match in path.find(body)]
    except Exception:  # jsonpath_ng raises a variety of exceptions
        raise InvalidJsonPath(
            f"The JSONPath {text!r} could not be applied to the request body."
        ) from None


def _string_from_path(path: JsonPathExpression | None, text: str, body: Any) -> str | None:
    """The original's rule: one string match is that string, else the JSON text of all matches.

    That text is byte for byte the original's ``json.dumps(matches)`` (separators ``", "`` and
    ``": "``, non-ASCII escaped): state machines match on it in ``Catch`` and ``Choice``.
    """
    matches = _find(path, text, body)
    if not matches:
        return None
    if len(matches) == 1 and isinstance(matches[0], str):
        return matches[0]
    return json.dumps(matches)


def _resolve_post(token: str, action: PostAction, body: Any) -> ResolvedOutcome:
    for outcome in action.outcomes:
        if not _matches(outcome, body):
            continue
        response = outcome.response if outcome.response is not None else action.response
        completion: Completion
        if isinstance(outcome, SuccessOutcome):
            if outcome.output_body:
                output = body
            elif outcome.output_path is not None:
                # A JSON null body gives a null output, as in the original; else all matches.
                output = (
                    None
                    if body is None
                    else _find(outcome.compiled_output_path(), outcome.output_path, body)
                )
            else:
                output = outcome.output
            completion = Completion.success(token, output)
        elif isinstance(outcome, FailureOutcome):
            error, cause = outcome.error, outcome.cause
            if outcome.error_path is not None:
                error = _string_from_path(outcome.compiled_error_path(), outcome.error_path, body)
            if outcome.cause_path is not None:
                cause = _string_from_path(outcome.compiled_cause_path(), outcome.cause_path, body)
            completion = Completion.failure(token, error, cause)
        else:
            completion = Completion.heartbeat(token)
        return ResolvedOutcome(completion, response, post_outcome=outcome.name)
    raise InvalidPostActionBody
