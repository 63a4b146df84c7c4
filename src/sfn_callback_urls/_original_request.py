"""The original app's create-URLs request, where it was looser than our models.

Its schema allowed unknown fields inside actions, POST outcomes and responses (and ignored
them); its top level was strict, and so is ours. `without_unknown_fields()` drops them, with one
warning naming them: a typo looks like one.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from ._models import (
    ACTION_CLASSES,
    FailureOutcome,
    HeartbeatOutcome,
    ResponseSpec,
    SuccessOutcome,
)

__all__ = ["without_unknown_fields"]

# The logger the warning has always gone to (users may filter on it).
_log = logging.getLogger("sfn_callback_urls._models")


def _field_names(*models: type[BaseModel]) -> frozenset[str]:
    """Every name a model's fields accept (names and aliases)."""
    names: set[str] = set()
    for model in models:
        for name, info in model.model_fields.items():
            names.add(name)
            if info.alias:
                names.add(info.alias)
    return frozenset(names)


_ACTION_FIELD_NAMES = {kind: _field_names(cls) for kind, cls in ACTION_CLASSES.items()}
_OUTCOME_FIELD_NAMES = {
    cls.model_fields["type"].default: _field_names(cls)
    for cls in (SuccessOutcome, FailureOutcome, HeartbeatOutcome)
}
_RESPONSE_FIELD_NAMES = _field_names(ResponseSpec)
# Field names shown in the warning: a typo looks like this; anything else (a token pasted as
# a key, say) is not repeated in a log.
_SHOWN_FIELD_NAME = re.compile(r"[A-Za-z0-9_$-]{1,40}")
_MAX_SHOWN_FIELDS = 20


def _known_fields(
    value: Any, names: Mapping[str, frozenset[str]] | frozenset[str], path: str, dropped: list[str]
) -> Any:
    """``value`` without the keys its type does not know; their paths go to ``dropped``."""
    if not isinstance(value, dict):
        return value
    if isinstance(names, Mapping):
        kind = value.get("type")
        known = names.get(kind) if isinstance(kind, str) else None
        if known is None:
            return value  # no such type: validation says so
    else:
        known = names
    unknown = [key for key in value if key not in known]
    if not unknown:
        return value
    for key in unknown:
        shown = key if isinstance(key, str) and _SHOWN_FIELD_NAME.fullmatch(key) else "<?>"
        dropped.append(f"{path}.{shown}")
    return {key: item for key, item in value.items() if key in known}


def _known_fields_of(
    value: Any, names: Mapping[str, frozenset[str]], path: str, dropped: list[str]
) -> Any:
    """An action or outcome without unknown fields, its ``response`` too."""
    value = _known_fields(value, names, path, dropped)
    if isinstance(value, dict) and isinstance(value.get("response"), dict):
        response = _known_fields(
            value["response"], _RESPONSE_FIELD_NAMES, f"{path}.response", dropped
        )
        value = {**value, "response": response}
    return value


def _without_unknown_fields(data: dict[str, Any], dropped: list[str]) -> dict[str, Any]:
    """The request with unknown fields of its actions, outcomes and responses removed.

    The original app's schema allowed them there (and ignored them); its top level was strict,
    and so is ours. Nothing is mutated: changed parts are copies.
    """
    actions = data.get("actions")
    if not isinstance(actions, list):
        return data
    cleaned: list[Any] = []
    for index, raw in enumerate(actions):
        path = f"actions.{index}"
        action = _known_fields_of(raw, _ACTION_FIELD_NAMES, path, dropped)
        if isinstance(action, dict) and isinstance(action.get("outcomes"), list):
            outcomes = [
                _known_fields_of(
                    outcome, _OUTCOME_FIELD_NAMES, f"{path}.outcomes.{number}", dropped
                )
                for number, outcome in enumerate(action["outcomes"])
            ]
            action = {**action, "outcomes": outcomes}
        cleaned.append(action)
    return {**data, "actions": cleaned}


def without_unknown_fields(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` without the unknown fields of its actions, outcomes and responses (logged)."""
    dropped: list[str] = []
    data = _without_unknown_fields(data, dropped)
    if dropped:
        shown = ", ".join(dropped[:_MAX_SHOWN_FIELDS])
        if len(dropped) > _MAX_SHOWN_FIELDS:
            shown += f" and {len(dropped) - _MAX_SHOWN_FIELDS} more"
        _log.warning(
            "create-URLs request: ignored unknown fields (the original app ignored them "
            "too; check them for typos): %s",
            shown,
        )
    return data
