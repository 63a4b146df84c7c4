"""Disabled features: every entry point that mints refuses them the same way, with the same code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from sfn_callback_urls import _config
from sfn_callback_urls.aws_lambda import create_urls_handler, reset_app

POST_ACTION = {
    "name": "reply",
    "type": "post",
    "outcomes": [{"name": "ok", "type": "heartbeat", "schema": {}}],
}
GET_ACTION = {"name": "approve", "type": "success", "output": {"ok": "$ok"}}
CASES = [
    # (environment switches, request fields, the refusal's code or None when minted)
    ({}, {"actions": [POST_ACTION]}, "PostActionsDisabled"),
    ({"ENABLE_POST_ACTIONS": "false"}, {"actions": [POST_ACTION]}, "PostActionsDisabled"),
    ({"DISABLE_POST_ACTIONS": "true"}, {"actions": [POST_ACTION]}, "PostActionsDisabled"),
    ({"ENABLE_POST_ACTIONS": "true"}, {"actions": [POST_ACTION]}, None),
    (
        {},
        {"actions": [GET_ACTION], "enable_output_parameters": True},
        "ParametersDisabled",
    ),
    (
        {"DISABLE_OUTPUT_PARAMETERS": "1"},
        {"actions": [GET_ACTION], "enable_output_parameters": True},
        "ParametersDisabled",
    ),
    (
        {"ENABLE_OUTPUT_PARAMETERS": "true"},
        {"actions": [GET_ACTION], "enable_output_parameters": True},
        None,
    ),
]


def _cli_mint(environ: dict[str, str], request: dict[str, Any]) -> str | None:
    """``sfn-callback-urls mint`` as a subprocess: the refusal's code, or None when it minted."""
    done = subprocess.run(
        [sys.executable, "-m", "sfn_callback_urls", "mint", "-"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        env=environ,
        check=False,
        timeout=60,
    )
    if done.returncode == 0:
        assert json.loads(done.stdout)["urls"]
        return None
    assert done.returncode == 1, done.stderr
    # "sfn-callback-urls: CODE: message", one line
    return done.stderr.split(": ", 2)[1]


@pytest.mark.parametrize(("switches", "fields", "code"), CASES)
def test_cli_mint_and_the_ready_app_refuse_the_same_disabled_features(
    app_env: pytest.MonkeyPatch, switches: dict[str, str], fields: dict[str, Any], code: str | None
) -> None:
    """With the same switches, CLI mint and create_urls_handler mint or refuse alike."""
    for name, value in switches.items():
        app_env.setenv(name, value)
    reset_app()
    request = {"token": "t" * 40, **fields}
    answer = create_urls_handler(request, None)
    assert answer.get("error") == code
    environ = {
        name: value
        for name, value in os.environ.items()
        if name not in _config.KEY_VARIABLES or name == _config.ENV_KEY
    }
    assert _cli_mint(environ, request) == code
