"""Shared fixtures: fake AWS credentials, moto with real Step Functions executions, moto KMS keys.

Headless Chromium for looking at pages (``chromium``) is driven through browser_harness.py.

Plain helpers (test data, fakes, event and blob readers) are in helpers.py.
"""

from __future__ import annotations

import builtins
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import boto3
import pytest
from moto import mock_aws

from browser_harness import Browser, open_chromium, require_tools  # no selenium import here
from helpers import APP_BASE_URL, REGION, new_kms_key, record_sfn_calls  # tests/ is on sys.path
from sfn_callback_urls import Codec, LocalKey, _config
from sfn_callback_urls._complete import default_client, reset_default_client
from sfn_callback_urls.aws_lambda import reset_app
from sfn_callback_urls.keys._aws import reset_default_session
from sfn_callback_urls.testing import ApprovalMachine

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_stepfunctions import SFNClient


class MotoClients(NamedTuple):
    """The boto3 clients of a moto-mocked account."""

    stepfunctions: SFNClient
    sqs: SQSClient


@pytest.fixture(autouse=True)
def _logger_levels() -> Iterator[None]:
    """Restore the levels the library may set (the app's audit logger, the AWS SDK's loggers).

    `quiet_aws_loggers()` and the ready app set process-wide logger levels on purpose; a test
    must not see what an earlier one left.
    """
    names = ("botocore", "boto3", "urllib3", "s3transfer", "sfn_callback_urls.aws_lambda")
    saved = {name: logging.getLogger(name).level for name in names}
    yield
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture(autouse=True)
def _fresh_default_session() -> Iterator[None]:
    """Each test's clients come from a session of its own: credentials are cached per session."""
    reset_default_session()
    yield
    reset_default_session()


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """One headless Chromium for the session (tests/browser_harness.py); each ``open`` resets it.

    Skipped, with the install command, when Chromium, chromedriver, selenium or axe-core is
    missing; under ``nox -s tests_tools`` a missing tool fails instead.
    """
    require_tools()
    with open_chromium(tmp_path_factory.mktemp("chromium")) as browser:
        yield browser


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials and a region; no profile, config file or endpoint leaks in."""
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_SFN",
        "AWS_ENDPOINT_URL_SQS",
        "AWS_ENDPOINT_URL_KMS",
        "AWS_ENDPOINT_URL_SSM",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)


@pytest.fixture
def moto_sfn(aws_env: None) -> Iterator[MotoClients]:
    """Moto with state machines that really execute, and its Step Functions and SQS clients."""
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield MotoClients(
            stepfunctions=boto3.client("stepfunctions", region_name=REGION),
            sqs=boto3.client("sqs", region_name=REGION),
        )


@pytest.fixture
def approval_machine(moto_sfn: MotoClients) -> Iterator[ApprovalMachine]:
    """The approval state machine in moto; running executions are stopped afterwards."""
    with ApprovalMachine(moto_sfn.stepfunctions, moto_sfn.sqs) as machine:
        yield machine


@pytest.fixture
def heartbeat_machine(moto_sfn: MotoClients) -> Iterator[ApprovalMachine]:
    """The approval machine whose waiting task needs a heartbeat every 60 s."""
    with ApprovalMachine(moto_sfn.stepfunctions, moto_sfn.sqs, heartbeat_seconds=60) as machine:
        yield machine


@pytest.fixture
def fresh_default_client() -> Iterator[None]:
    """The process-wide Step Functions client is forgotten before and after the test."""
    reset_default_client()
    yield
    reset_default_client()


# --- the ready Lambda app ---------------------------------------------------------------------


#: Every variable the configuration reads: ours and the original app's.
APP_VARIABLES = sorted({value for name, value in vars(_config).items() if name.startswith("ENV_")})


@pytest.fixture
def app_env(
    monkeypatch: pytest.MonkeyPatch, moto_sfn: MotoClients, fresh_default_client: None
) -> Iterator[pytest.MonkeyPatch]:
    """The ready Lambda app on moto with a local key and APP_BASE_URL, every other variable cleared.

    The app is rebuilt before and after; yields the monkeypatch, to change the environment (then
    call ``reset_app()``).
    """
    for name in APP_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(_config.ENV_KEY, LocalKey.generate().to_string())
    monkeypatch.setenv(_config.ENV_BASE_URL, APP_BASE_URL)
    reset_app()
    yield monkeypatch
    reset_app()


@pytest.fixture
def sfn_calls(app_env: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """Every Step Functions call the ready app's client makes: (operation, parameters)."""
    return record_sfn_calls(default_client())


@pytest.fixture
def no_encryption_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    """aws-encryption-sdk (the ``original`` extra) cannot be imported, as if not installed."""
    real_import = builtins.__import__

    def no_sdk(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "aws_encryption_sdk" or name.startswith("aws_encryption_sdk."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    for module in [name for name in sys.modules if name.startswith("aws_encryption_sdk")]:
        monkeypatch.delitem(sys.modules, module)
    monkeypatch.setattr(builtins, "__import__", no_sdk)


# --- keys: local and KMS in moto --------------------------------------------------------------


@pytest.fixture
def codec() -> Codec:
    """A codec under a fresh local key."""
    return Codec(LocalKey.generate())


@pytest.fixture
def kms(aws_env: None) -> Iterator[KMSClient]:
    """A KMS client on moto (an account of its own: next to executions, use ``moto_sfn``'s)."""
    with mock_aws():
        yield boto3.client("kms", region_name=REGION)


@pytest.fixture
def symmetric_key(kms: KMSClient) -> str:
    """The ARN of an ordinary symmetric KMS key (for the envelope backend)."""
    return new_kms_key(kms, "envelope")


@pytest.fixture
def hmac_key(kms: KMSClient) -> str:
    """The ARN of a KMS HMAC_256 key (for the derived backend)."""
    return new_kms_key(kms, "derived")


class MotoServer(NamedTuple):
    """A moto server on loopback with real executions, and boto3 clients pointed at it."""

    endpoint_url: str
    stepfunctions: SFNClient
    sqs: SQSClient
    kms: KMSClient


@pytest.fixture(scope="module")
def moto_server() -> Iterator[MotoServer]:
    """`sfn_callback_urls.testing.moto_server()` (for tests whose code runs in another process)."""
    from sfn_callback_urls.testing import moto_server as running

    with running() as endpoint:
        session = boto3.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name=REGION,
        )
        yield MotoServer(
            endpoint_url=endpoint,
            stepfunctions=session.client("stepfunctions", endpoint_url=endpoint),
            sqs=session.client("sqs", endpoint_url=endpoint),
            kms=session.client("kms", endpoint_url=endpoint),
        )


# --- hypothesis profiles: `ci` is thorough and reproducible, `dev` (the default) is quick ---------

from hypothesis import settings  # noqa: E402

settings.register_profile("ci", max_examples=200, deadline=None, derandomize=True)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
