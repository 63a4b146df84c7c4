"""A short run of ``benchmarks/load.py`` inside the suite: its checks, not its latencies.

Both servers (WSGI under wsgiref, ASGI under uvicorn) on 127.0.0.1, 300 mixed requests each
at concurrency 16, against the fake Step Functions that completes a token once.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from helpers import import_file  # tests/ is on sys.path

LOAD_PY = Path(__file__).resolve().parent.parent / "benchmarks" / "load.py"


@pytest.fixture(scope="module")
def load() -> ModuleType:
    """``benchmarks/load.py`` imported as a module (it is a script, not part of the package)."""
    return import_file(LOAD_PY, "sfn_callback_urls_load")


@pytest.mark.parametrize("server", ["wsgi", "asgi"])
def test_short_load_run_passes_every_check(load: ModuleType, server: str) -> None:
    """300 mixed requests: each valid URL completes once as minted, each invalid one is refused."""
    result = load.run_server(server, 300, 16, seed=1)
    assert result.failures == []
    assert result.requests == 300
    assert (result.lost, result.duplicated, result.wrong, result.unexpected) == (0, 0, 0, 0)
    assert result.server_errors == 0
    # Every kind of traffic was sent, and answered as it must be.
    assert set(result.kinds) == {"valid", "second", "race", "expired", "tampered"}
    valid, races = result.kinds["valid"], result.kinds["race"]
    refused = result.kinds["second"] + races // 2
    invalid = result.kinds["expired"] + result.kinds["tampered"]
    assert dict(result.statuses) == {200: valid + races // 2, 409: refused, 400: invalid}


def test_checks_catch_a_double_completion(load: ModuleType) -> None:
    """The checker is not blind: a task completed twice is reported as duplicated."""
    fake = load.FakeStepFunctions()
    token = fake.issue()
    fake.send_task_success(taskToken=token, output="{}")
    fake.completed[token].append(load.Completed("success", {}))
    job = load.Job("valid", "/callbacks/respond?data=x", 200, token=token, transaction_id="t")
    plan = load.Plan([job], {token: load.Completed("success", {})}, {}, [], 1)
    answer = load.Answer(job, 200, b'{"transaction_id": "t"}', 0.001)
    result = load.Result("fake", 1, 1, 0.1, [0.001], load.Counter({200: 1}), load.Counter())
    result.log_lines["INFO"] = 1
    load.check(result, plan, [answer], fake.completed, True)
    assert result.duplicated == 1
    assert any("duplicated" in failure for failure in result.failures)


def test_the_fake_completes_a_token_once(load: ModuleType) -> None:
    """The fake answers a repeat like Step Functions: TaskTimedOut, and records nothing more."""
    fake = load.FakeStepFunctions()
    token = fake.issue()
    fake.send_task_failure(taskToken=token, error="rejected", cause="no")
    with pytest.raises(load.ClientError) as info:
        fake.send_task_success(taskToken=token, output="{}")
    assert info.value.response["Error"]["Code"] == "TaskTimedOut"
    assert fake.completed == {token: [load.Completed("failure", None, "rejected", "no")]}
