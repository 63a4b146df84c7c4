"""Request examples from the original sfn-callback-urls README, shared by several tests."""

from __future__ import annotations

from typing import Any

#: The original README's POST action example: a happy and a sad outcome.
README_POST_ACTION: dict[str, Any] = {
    "name": "callback",
    "type": "post",
    "outcomes": [
        {
            "name": "happy",
            "type": "success",
            "schema": {
                "type": "object",
                "properties": {"result": {"const": "good"}},
                "required": ["result"],
            },
            "output_body": True,
        },
        {
            "name": "sad",
            "type": "failure",
            "schema": {
                "type": "object",
                "properties": {"result": {"const": "bad"}, "reason": {"type": "string"}},
                "required": ["result", "reason"],
            },
            "error_path": "$.reason",
        },
    ],
}
