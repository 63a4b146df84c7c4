"""The create-URLs response written by hand: built from the minter's values, dumped as JSON.

Both are what pydantic makes (``model_construct``, ``model_dump(mode="json",
exclude_none=True)``) without its generic loops, which the benchmark shows cost a user's mint
and the ready app's every answer; ``tests/test_urls.py`` holds each against pydantic's own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ._models import CreateUrlsResponse
from ._time import format_utc

__all__ = ["response_json", "trusted_response"]

_RESPONSE_FIELDS = frozenset(("transaction_id", "urls", "expiration"))


def trusted_response(
    transaction_id: str, urls: dict[str, str], expiration: datetime | None
) -> CreateUrlsResponse:
    """A `CreateUrlsResponse` of values the minter made or checked: not validated again.

    What ``model_construct`` makes (``tests/test_urls.py`` compares the two), without its
    generic per-field loop, which costs more than a tenth of a one-URL mint.
    """
    response = _new_object(CreateUrlsResponse)
    _set_attribute(
        response,
        "__dict__",
        {"transaction_id": transaction_id, "urls": urls, "expiration": expiration},
    )
    _set_attribute(response, "__pydantic_fields_set__", set(_RESPONSE_FIELDS))
    _set_attribute(response, "__pydantic_extra__", None)
    _set_attribute(response, "__pydantic_private__", None)
    return response


_new_object = object.__new__
_set_attribute = object.__setattr__


def response_json(response: CreateUrlsResponse) -> dict[str, Any]:
    """The contract's JSON of a response: ``model_dump(mode="json", exclude_none=True)``.

    Written out, since the ready app answers every request with it and the generic dump costs
    more than the rest of the answer (``tests/test_urls.py`` checks the two agree).
    """
    answer: dict[str, Any] = {
        "transaction_id": response.transaction_id,
        "urls": dict(response.urls),
    }
    if response.expiration is not None:
        answer["expiration"] = format_utc(response.expiration)
    return answer
