"""The command as a new user runs it: a real subprocess, a real terminal where one matters."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from sfn_callback_urls import Codec, LocalKey, Minter, SuccessAction, __version__

PROG = [sys.executable, "-m", "sfn_callback_urls"]
BASE_URL = "https://abc123.execute-api.us-east-1.amazonaws.com/prod"
REQUEST = {"token": "T" * 700, "actions": [{"name": "approve", "type": "success", "output": {}}]}


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A clean environment: no key, no AWS configuration, no base URL, unless given."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SFN_CALLBACK_URLS_", "AWS_", "KEY_ID", "CALLBACK_BASE_URL"))
    }
    env.update(AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path))
    env.update(extra)
    return env


def run(
    tmp_path: Path, *argv: str, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    """The command in a subprocess, as a shell runs it."""
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [*PROG, *argv],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment(tmp_path, **env),
        timeout=60,
        check=False,
    )


def test_version(tmp_path: Path) -> None:
    """--version prints the installed version and exits 0."""
    result = run(tmp_path, "--version")
    assert (result.returncode, result.stdout.strip()) == (0, f"sfn-callback-urls {__version__}")


def test_keygen_output_is_the_key_alone(tmp_path: Path) -> None:
    """`export K=$(sfn-callback-urls keygen)` captures exactly one loadable key."""
    result = run(tmp_path, "keygen")
    assert result.returncode == 0
    key = result.stdout.strip()
    assert "\n" not in key
    assert LocalKey.from_string(key).key_id
    assert result.stdout == key + "\n"


def test_the_quickstart_check_step_opens_what_the_app_minted(tmp_path: Path) -> None:
    """Inspect reads the app's environment (key and purpose): a purpose-bound URL opens."""
    key = LocalKey.generate().to_string()
    codec = Codec(LocalKey.from_string(key), purpose="prod/approvals")
    url = Minter(codec, base_url=BASE_URL).mint("T" * 700, [SuccessAction(name="ok", output={})])
    env = {"SFN_CALLBACK_URLS_KEY": key, "SFN_CALLBACK_URLS_PURPOSE": "prod/approvals"}
    result = run(tmp_path, "inspect", url.urls["ok"], **env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["valid"] is True


def test_inspect_explains_a_refusal_on_stderr(tmp_path: Path) -> None:
    """Without the purpose, inspect says InvalidPayload and then what to check."""
    key = LocalKey.generate().to_string()
    codec = Codec(LocalKey.from_string(key), purpose="prod/approvals")
    url = Minter(codec, base_url=BASE_URL).mint("T" * 700, [SuccessAction(name="ok", output={})])
    result = run(tmp_path, "inspect", url.urls["ok"], SFN_CALLBACK_URLS_KEY=key)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith("sfn-callback-urls: InvalidPayload:")
    assert "purpose differs" in lines[1]
    assert "Traceback" not in result.stderr


def test_inspect_into_a_closed_pipe_is_quiet(tmp_path: Path) -> None:
    """`inspect ... | head -c 1`: no BrokenPipeError traceback, exit 0."""
    key = LocalKey.generate().to_string()
    url = Minter(Codec(LocalKey.from_string(key)), base_url=BASE_URL).mint(
        "T" * 700, [SuccessAction(name="ok", output={"big": "x" * 200_000})]
    )
    command = f"{sys.executable} -m sfn_callback_urls inspect '{url.urls['ok']}' | head -c 1"
    result = subprocess.run(  # noqa: S602 - a shell pipeline is the point
        command,
        shell=True,
        capture_output=True,
        text=True,
        env=environment(tmp_path, SFN_CALLBACK_URLS_KEY=key),
        timeout=60,
        check=False,
    )
    assert result.stdout == "{"
    assert "Traceback" not in result.stderr
    assert "BrokenPipe" not in result.stderr


def test_inspect_says_when_only_the_leeway_lets_a_url_through(tmp_path: Path) -> None:
    """A URL expired 5 s ago is still valid (30 s leeway), and inspect says it expired."""
    key = LocalKey.generate().to_string()
    now = datetime.now(timezone.utc)
    url = Minter(Codec(LocalKey.from_string(key)), base_url=BASE_URL).mint(
        "T" * 700,
        [SuccessAction(name="ok", output={})],
        now=now - timedelta(minutes=1),
        expires_at=now - timedelta(seconds=5),
    )
    result = run(tmp_path, "inspect", url.urls["ok"], SFN_CALLBACK_URLS_KEY=key)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["valid"] is True
    assert "expired at" in shown["note"]
    assert "leeway" in shown["note"]


def test_mint_without_a_base_url_names_the_option(tmp_path: Path) -> None:
    """Mint with no base URL anywhere says --base-url (and the variable), exit 2."""
    key = LocalKey.generate().to_string()
    result = run(tmp_path, "mint", stdin=json.dumps(REQUEST), SFN_CALLBACK_URLS_KEY=key)
    assert result.returncode == 2
    assert "--base-url" in result.stderr
    assert "CALLBACK_BASE_URL" in result.stderr


def test_mint_base_url_from_the_environment(tmp_path: Path) -> None:
    """Mint reads CALLBACK_BASE_URL like the app does."""
    key = LocalKey.generate().to_string()
    env = {"SFN_CALLBACK_URLS_KEY": key, "CALLBACK_BASE_URL": BASE_URL}
    result = run(tmp_path, "mint", stdin=json.dumps(REQUEST), **env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["urls"]["approve"].startswith(BASE_URL + "/respond?")


def read_until(fd: int, needle: bytes, timeout: float) -> bytes:
    """Read ``fd`` until ``needle`` shows up (or the time is up)."""
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    return seen


def test_mint_from_a_terminal_says_it_reads_stdin(tmp_path: Path) -> None:
    """Mint with a terminal on stdin says it is reading the request there, then mints it."""
    key = LocalKey.generate().to_string()
    primary, secondary = pty.openpty()
    env = environment(tmp_path, SFN_CALLBACK_URLS_KEY=key, CALLBACK_BASE_URL=BASE_URL)
    with subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [*PROG, "mint"], stdin=secondary, stdout=subprocess.PIPE, stderr=secondary, env=env
    ) as process:
        os.close(secondary)
        try:
            prompt = read_until(primary, b"Ctrl-D", timeout=30)
            assert b"reading the create-URLs request" in prompt
            os.write(primary, json.dumps(REQUEST).encode() + b"\n\x04")
            out, _ = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
            os.close(primary)
    assert process.returncode == 0
    minted: dict[str, Any] = json.loads(out)
    assert list(minted["urls"]) == ["approve"]


def test_serve_takes_the_region_from_aws_region(tmp_path: Path) -> None:
    """`serve --help` names AWS_REGION, and AWS_REGION alone is enough to start serving."""
    help_text = run(tmp_path, "serve", "--help").stdout
    assert "AWS_REGION" in help_text
    env = environment(
        tmp_path,
        SFN_CALLBACK_URLS_KEY=LocalKey.generate().to_string(),
        AWS_REGION="eu-west-3",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
    )
    with subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [*PROG, "serve", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            lines = [process.stdout.readline() for _ in range(3)]
        finally:
            process.kill()
            process.communicate()
    assert "Serving callback URLs on http://127.0.0.1:" in lines[0]
    assert "(eu-west-3)" in lines[2]


def test_inspect_opens_what_the_ready_app_minted_under_kms(
    aws_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The app's environment (KEY_ID, a purpose) is enough for inspect: no flags."""
    import boto3
    from moto import mock_aws

    from sfn_callback_urls import _cli
    from sfn_callback_urls.aws_lambda import create_urls_handler, reset_app

    with mock_aws():
        key_arn = boto3.client("kms").create_key()["KeyMetadata"]["Arn"]
        monkeypatch.setenv("KEY_ID", key_arn)
        monkeypatch.setenv("SFN_CALLBACK_URLS_PURPOSE", "prod/approvals")
        monkeypatch.setenv("CALLBACK_BASE_URL", BASE_URL)
        monkeypatch.delenv("SFN_CALLBACK_URLS_KEY", raising=False)
        reset_app()
        try:
            minted = create_urls_handler(REQUEST, None)
        finally:
            reset_app()
        code = _cli.main(["inspect", minted["urls"]["approve"]])
    out = capsys.readouterr().out
    assert code == 0, out
    shown = json.loads(out)
    assert shown["valid"] is True
    assert shown["claims"]["transaction_id"] == minted["transaction_id"]


def test_inspect_finds_the_kms_region_in_aws_region_alone(tmp_path: Path) -> None:
    """With only AWS_REGION set (as other AWS SDKs have it), KMS works as Step Functions does.

    `inspect` opens a URL minted under KEY_ID; moto runs inside the subprocess.
    """
    script = """
import os, runpy, sys
import boto3
from moto import mock_aws
with mock_aws():
    kms = boto3.client("kms", region_name="eu-west-3")
    arn = kms.create_key()["KeyMetadata"]["Arn"]
    os.environ["KEY_ID"] = arn
    from sfn_callback_urls import Codec, KmsEnvelopeKey, Minter, SuccessAction
    minter = Minter(Codec(KmsEnvelopeKey(arn, client=kms)), base_url="https://h.example")
    url = minter.mint("T" * 40, [SuccessAction(name="ok", output={})]).urls["ok"]
    sys.argv = ["sfn-callback-urls", "inspect", url]
    runpy.run_module("sfn_callback_urls", run_name="__main__")
"""
    env = environment(
        tmp_path, AWS_REGION="eu-west-3", AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="x"
    )
    assert "AWS_DEFAULT_REGION" not in env
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["valid"] is True


def test_inspect_a_url_without_data_says_so(tmp_path: Path) -> None:
    """`inspect https://example.com/` says the URL has no data parameter, not "bad base64"."""
    key = LocalKey.generate().to_string()
    result = run(tmp_path, "inspect", "https://example.com/", SFN_CALLBACK_URLS_KEY=key)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0] == (
        "sfn-callback-urls: InvalidPayload: The callback URL has no data parameter."
    )
    assert "copy the whole link" in lines[1]
    assert "base64" not in result.stderr
    assert json.loads(result.stdout)["error"] == "InvalidPayload"


def test_inspect_a_url_copied_from_html_gets_the_amp_hint(tmp_path: Path) -> None:
    """A URL copied from HTML source (`&amp;` between parameters) gets a hint to fix it."""
    key = LocalKey.generate().to_string()
    codec = Codec(LocalKey.from_string(key))
    url = Minter(codec, base_url=BASE_URL).mint("T" * 700, [SuccessAction(name="ok", output={})])
    escaped = url.urls["ok"].replace("&", "&amp;")
    result = run(tmp_path, "inspect", escaped, SFN_CALLBACK_URLS_KEY=key)
    assert result.returncode == 1
    assert "hint: The URL contains '&amp;'" in result.stderr
    fixed = run(tmp_path, "inspect", escaped.replace("&amp;", "&"), SFN_CALLBACK_URLS_KEY=key)
    assert fixed.returncode == 0, fixed.stderr
