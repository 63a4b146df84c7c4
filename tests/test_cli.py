"""Tests of cli.py: keygen, mint, inspect, serve and demo, with their exit codes and stderr."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from wsgiref.util import setup_testing_defaults

import pytest

from helpers import synthetic_token  # tests/ is on sys.path
from sfn_callback_urls import _cli as cli
from sfn_callback_urls import _demo as demo_module
from sfn_callback_urls._codec import Codec, Mode
from sfn_callback_urls._config import ENV_KEY
from sfn_callback_urls._urls import Minter
from sfn_callback_urls._validation import parse_action
from sfn_callback_urls.keys import LocalKey
from sfn_callback_urls.testing import ApprovalMachine

if TYPE_CHECKING:
    from conftest import MotoClients  # tests/ is on sys.path under pytest

BASE_URL = "https://callbacks.example.com/prod"
TOKEN = synthetic_token()
APPROVE = {"name": "approve", "type": "success", "output": {"name_in_output": "Ben"}}
REJECT = {"name": "reject", "type": "failure", "error": "rejected", "cause": "Ben said no"}


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh local key string, also in $SFN_CALLBACK_URLS_KEY."""
    text = LocalKey.generate().to_string()
    monkeypatch.setenv(ENV_KEY, text)
    return text


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """No key in the environment."""
    monkeypatch.delenv(ENV_KEY, raising=False)


def run(
    capsys: pytest.CaptureFixture[str], *argv: str, stdin: str | None = None
) -> tuple[int, str, str]:
    """main(argv) in-process: (exit code, stdout, stderr)."""
    if stdin is not None:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(sys, "stdin", io.StringIO(stdin))
            code = cli.main(list(argv))
    else:
        code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line(err: str) -> None:
    """An expected error is one line on stderr, never a traceback."""
    assert err.endswith("\n")
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    assert err.startswith("sfn-callback-urls: ")


def request_json(**extra: Any) -> str:
    """A create-URLs request for approve/reject, with ``extra`` fields."""
    return json.dumps({"token": TOKEN, "actions": [APPROVE, REJECT], **extra})


def mint_url(
    key: str,
    *,
    now: datetime | None = None,
    expires_in: timedelta | None = None,
    purpose: str = "sfn-callback-urls",
    mode: Mode = Mode.ENCRYPTED,
) -> str:
    """An approve URL minted under ``key`` (issued ``now``, the wall clock by default)."""
    codec = Codec(LocalKey.from_string(key), purpose=purpose, mode=mode)
    minter = Minter(codec, base_url=BASE_URL)
    response = minter.mint(
        TOKEN,
        [parse_action(APPROVE), parse_action(REJECT)],
        expires_in=expires_in or timedelta(days=7),
        now=now,
    )
    return response.urls["approve"]


# --- help and usage --------------------------------------------------------------------------


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """Without a command the help goes to stderr and the exit code is 2."""
    code, out, err = run(capsys)
    assert code == cli.EXIT_USAGE
    assert out == ""
    assert "keygen" in err
    assert "demo" in err


@pytest.mark.parametrize("command", ["keygen", "mint", "inspect", "serve", "demo"])
def test_help_has_examples(capsys: pytest.CaptureFixture[str], command: str) -> None:
    """Every command's --help ends in examples and exits 0."""
    with pytest.raises(SystemExit) as exited:
        cli.main([command, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out
    assert f"sfn-callback-urls {command}" in out or command == "keygen"


def test_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """Usage errors (argparse's) exit 2."""
    with pytest.raises(SystemExit) as exited:
        cli.main(["demo", "--auto", "maybe"])
    assert exited.value.code == cli.EXIT_USAGE
    assert "invalid choice" in capsys.readouterr().err


# --- keygen ----------------------------------------------------------------------------------


def test_keygen_last_line_is_a_key(capsys: pytest.CaptureFixture[str]) -> None:
    """The last line of keygen's output loads as a local key; two runs differ."""
    code, out, _ = run(capsys, "keygen")
    assert code == cli.EXIT_OK
    first = out.splitlines()[-1]
    assert LocalKey.from_string(first).key_id
    _, again, _ = run(capsys, "keygen")
    assert again.splitlines()[-1] != first


# --- mint ------------------------------------------------------------------------------------


def test_mint_from_stdin(capsys: pytest.CaptureFixture[str], key: str) -> None:
    """A request on stdin becomes the contract's response; its URLs open with the key."""
    code, out, err = run(capsys, "mint", "--base-url", BASE_URL, stdin=request_json())
    assert (code, err) == (cli.EXIT_OK, "")
    response = json.loads(out)
    assert set(response) == {"transaction_id", "urls"}
    assert set(response["urls"]) == {"approve", "reject"}
    assert response["urls"]["approve"].startswith(f"{BASE_URL}/respond?action=approve&")
    code, out, _ = run(capsys, "inspect", response["urls"]["reject"])
    assert code == cli.EXIT_OK
    assert json.loads(out)["claims"]["transaction_id"] == response["transaction_id"]


def test_mint_from_file_with_key_option(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, no_key: None
) -> None:
    """A request file naming its own base_url and expiration, with --key."""
    path = tmp_path / "request.json"
    expiration = (datetime.now(timezone.utc) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    path.write_text(request_json(base_url=BASE_URL, expiration=expiration))
    key = LocalKey.generate().to_string()
    code, out, _ = run(capsys, "mint", str(path), "--key", key)
    assert code == cli.EXIT_OK
    response = json.loads(out)
    assert response["expiration"] == expiration
    assert key not in out


def test_mint_bad_json_exits_1_with_one_line(capsys: pytest.CaptureFixture[str], key: str) -> None:
    """Invalid JSON is a refused input: exit 1, one line on stderr, nothing on stdout."""
    code, out, err = run(capsys, "mint", "--base-url", BASE_URL, stdin='{"token": "x", ')
    assert code == cli.EXIT_REFUSED
    assert out == ""
    assert_one_line(err)
    assert "InvalidJSON" in err


def test_mint_invalid_request_names_the_field(capsys: pytest.CaptureFixture[str], key: str) -> None:
    """A duplicate action name is refused with its own code; the token is never echoed."""
    text = json.dumps({"token": TOKEN, "actions": [APPROVE, APPROVE]})
    code, _, err = run(capsys, "mint", "--base-url", BASE_URL, stdin=text)
    assert code == cli.EXIT_REFUSED
    assert_one_line(err)
    assert "DuplicateActionName" in err
    assert TOKEN not in err


def test_mint_unreadable_file_exits_2(
    capsys: pytest.CaptureFixture[str], key: str, tmp_path: Path
) -> None:
    """A file that cannot be read is a usage error."""
    code, _, err = run(capsys, "mint", str(tmp_path / "missing.json"), "--base-url", BASE_URL)
    assert code == cli.EXIT_USAGE
    assert_one_line(err)
    assert "missing.json" in err


def test_mint_without_base_url_exits_2(capsys: pytest.CaptureFixture[str], key: str) -> None:
    """No --base-url and none in the request: a configuration error."""
    code, _, err = run(capsys, "mint", stdin=request_json())
    assert code == cli.EXIT_USAGE
    assert_one_line(err)
    assert "base URL" in err


@pytest.mark.parametrize("command", [["mint"], ["inspect", "abc"], ["serve"]])
def test_missing_key_exits_2(
    capsys: pytest.CaptureFixture[str], no_key: None, command: list[str]
) -> None:
    """Without --key or $SFN_CALLBACK_URLS_KEY, every keyed command exits 2 saying what to do."""
    code, out, err = run(capsys, *command, stdin=request_json())
    assert code == cli.EXIT_USAGE
    assert out == ""
    assert_one_line(err)
    assert ENV_KEY in err
    assert "keygen" in err


def test_damaged_key_exits_2_without_echoing_it(
    capsys: pytest.CaptureFixture[str], no_key: None
) -> None:
    """A damaged key is a configuration error whose message does not repeat the key."""
    damaged = LocalKey.generate().to_string()[:-3] + "AAA"
    code, _, err = run(capsys, "inspect", "abc", "--key", damaged)
    assert code == cli.EXIT_USAGE
    assert_one_line(err)
    assert damaged not in err


# --- inspect ---------------------------------------------------------------------------------


def test_inspect_valid_url(capsys: pytest.CaptureFixture[str], key: str) -> None:
    """A valid URL shows its claims, without the token or any key material."""
    code, out, err = run(capsys, "inspect", mint_url(key))
    assert (code, err) == (cli.EXIT_OK, "")
    result = json.loads(out)
    assert result["valid"] is True
    assert result["claims"]["action"] == APPROVE
    assert "token" not in result["claims"]
    assert TOKEN not in out
    assert key not in out
    assert key.removeprefix("sfncu1_")[:20] not in out


def test_inspect_show_token_and_bare_blob(capsys: pytest.CaptureFixture[str], key: str) -> None:
    """--show-token adds the token; a bare blob works as well as the URL."""
    blob = mint_url(key).rsplit("data=", 1)[1]
    code, out, _ = run(capsys, "inspect", blob, "--show-token")
    assert code == cli.EXIT_OK
    assert json.loads(out)["claims"]["token"] == TOKEN


def inspect_refused(capsys: pytest.CaptureFixture[str], *argv: str) -> list[str]:
    """Run ``inspect`` on a URL it must refuse; returns the hints (JSON and stderr agree)."""
    code, out, err = run(capsys, "inspect", *argv)
    assert code == cli.EXIT_REFUSED
    result = json.loads(out)
    assert (result["valid"], result["error"]) == (False, "InvalidPayload")
    lines = err.splitlines()
    assert lines[0] == f"sfn-callback-urls: InvalidPayload: {result['message']}"
    assert lines[1:] == [f"sfn-callback-urls: hint: {hint}" for hint in result["hints"]]
    assert "Traceback" not in err
    assert result["hints"]
    return list(result["hints"])


def test_inspect_tampered_url(capsys: pytest.CaptureFixture[str], key: str) -> None:
    """A URL altered after its header: the key and mode fit, so purpose or damage is to blame."""
    url = mint_url(key)
    tampered = url[:-2] + ("AA" if not url.endswith("AA") else "BB")
    [hint] = inspect_refused(capsys, tampered)
    assert "purpose differs" in hint
    assert "altered or cut short" in hint


def test_inspect_under_another_key(capsys: pytest.CaptureFixture[str], key: str) -> None:
    """A URL minted under another key: the hint names its key id and the keyring's."""
    other = LocalKey.generate()
    [hint] = inspect_refused(capsys, mint_url(other.to_string()))
    assert other.key_id.hex() in hint
    assert LocalKey.from_string(key).key_id.hex() in hint
    assert "not in this keyring" in hint
    assert other.to_string() not in hint


def test_inspect_under_another_purpose(capsys: pytest.CaptureFixture[str], key: str) -> None:
    """A URL minted for another purpose: the hint says which purpose this codec has."""
    url = mint_url(key, purpose="prod/approvals")
    [hint] = inspect_refused(capsys, url)
    assert "'sfn-callback-urls'" in hint
    assert "--purpose" in hint
    code, _, _ = run(capsys, "inspect", url, "--purpose", "prod/approvals")
    assert code == cli.EXIT_OK


def test_inspect_in_another_mode(capsys: pytest.CaptureFixture[str], key: str) -> None:
    """A signed URL opened as encrypted: the hint names both modes."""
    url = mint_url(key, mode=Mode.SIGNED)
    [hint] = inspect_refused(capsys, url)
    assert "signed mode" in hint
    assert "encrypted" in hint
    code, _, _ = run(capsys, "inspect", url, "--mode", "signed")
    assert code == cli.EXIT_OK


@pytest.mark.parametrize("keep", [30, 100, 400])
def test_inspect_url_cut_short(capsys: pytest.CaptureFixture[str], key: str, keep: int) -> None:
    """A link a mail client cut short: the hint says so, whichever way the cut falls."""
    url = mint_url(key)
    blob = url.rsplit("data=", 1)[1]
    hints = inspect_refused(capsys, url[: len(url) - len(blob) + keep])
    assert any("cut short" in hint for hint in hints)


def test_inspect_action_mismatched(capsys: pytest.CaptureFixture[str], key: str) -> None:
    """An approve blob under action=reject in the query is ActionMismatched."""
    url = mint_url(key).replace("action=approve", "action=reject")
    code, _, err = run(capsys, "inspect", url)
    assert code == cli.EXIT_REFUSED
    assert "ActionMismatched" in err


def test_inspect_expired_url(capsys: pytest.CaptureFixture[str], key: str) -> None:
    """An expired URL: exit 1 with ExpiredPayload, its claims shown without the token."""
    issued = datetime.now(timezone.utc) - timedelta(days=2)
    url = mint_url(key, now=issued, expires_in=timedelta(days=1))
    code, out, err = run(capsys, "inspect", url)
    assert code == cli.EXIT_REFUSED
    result = json.loads(out)
    assert result["valid"] is False
    assert result["error"] == "ExpiredPayload"
    assert result["claims"]["action"]["name"] == "approve"
    assert result["claims"]["expires_at"].endswith("Z")
    assert "token" not in result["claims"]
    assert TOKEN not in out
    assert_one_line(err)
    assert "ExpiredPayload" in err
    code, out, _ = run(capsys, "inspect", url, "--show-token")
    assert json.loads(out)["claims"]["token"] == TOKEN


# --- serve -----------------------------------------------------------------------------------


def wsgi_call(app: Any, url: str, method: str = "GET", accept: str = "application/json") -> Any:
    """Call a WSGI app with ``url``'s path and query; returns (status, body)."""
    path, _, query = url.split("://", 1)[1].partition("/")[2].partition("?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": "/" + path,
        "QUERY_STRING": query,
        "HTTP_ACCEPT": accept,
        "CONTENT_LENGTH": "0",
        "wsgi.input": io.BytesIO(b""),
    }
    setup_testing_defaults(environ)
    statuses: list[str] = []
    body = b"".join(app(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    return int(statuses[0].split()[0]), body


def test_serve_app_completes_a_real_execution(
    moto_sfn: MotoClients, approval_machine: ApprovalMachine, key: str
) -> None:
    """The app serve runs, with --confirm-get: a GET asks, the POST completes the execution."""
    args = cli.build_parser().parse_args(["serve", "--confirm-get"])
    app = cli.serve_app(args, stepfunctions_client=moto_sfn.stepfunctions)
    execution = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    minter = Minter(Codec(LocalKey.from_string(key)), base_url="http://127.0.0.1:8080")
    url = minter.mint(token, [parse_action(APPROVE)]).urls["approve"]
    status, body = wsgi_call(app, url, accept="text/html")
    assert status == 200
    assert b"<form" in body
    assert approval_machine.wait_for_status(execution, {"RUNNING"})["status"] == "RUNNING"
    status, body = wsgi_call(app, url, "POST")
    assert status == 200
    assert json.loads(body)["action"] == {"name": "approve", "type": "success"}
    described = approval_machine.wait_for_status(execution)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["output"] == {"name_in_output": "Ben"}
    assert wsgi_call(app, "http://127.0.0.1:8080/elsewhere")[0] == 404


def test_serve_app_options_reach_the_handler(key: str) -> None:
    """--enable-output-parameters and --enable-post-actions configure the handler."""
    args = cli.build_parser().parse_args(["serve"])
    assert (args.host, args.port) == ("127.0.0.1", 8080)
    assert not args.confirm_get
    assert not args.enable_output_parameters
    assert not args.enable_post_actions
    post = {
        "name": "hook",
        "type": "post",
        "outcomes": [{"name": "done", "type": "success", "schema": {}, "output_body": True}],
    }
    minter = Minter(Codec(LocalKey.from_string(key)), base_url="http://127.0.0.1:8080")
    url = minter.mint(TOKEN, [parse_action(post)]).urls["hook"]
    status, body = wsgi_call(cli.serve_app(args), url, "POST")
    assert (status, json.loads(body)["error"]) == (400, "PostActionsDisabled")
    enabled = cli.build_parser().parse_args(["serve", "--enable-post-actions"])
    status, body = wsgi_call(cli.serve_app(enabled), url, "GET")
    assert status == 405  # enabled now: a POST action takes POST only


def test_serve_refuses_the_wrong_endpoint_variable(
    capsys: pytest.CaptureFixture[str],
    key: str,
    aws_env: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """AWS_ENDPOINT_URL_STEPFUNCTIONS is not boto3's name for it: say AWS_ENDPOINT_URL_SFN."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_STEPFUNCTIONS", "http://127.0.0.1:1")
    code, _, err = run(capsys, "serve")
    assert code == cli.EXIT_USAGE
    assert_one_line(err)
    assert "AWS_ENDPOINT_URL_SFN" in err


def test_serve_without_region_exits_2(
    capsys: pytest.CaptureFixture[str],
    key: str,
    aws_env: None,
    fresh_default_client: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No AWS region configured: a configuration error before anything listens."""
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    code, _, err = run(capsys, "serve")
    assert code == cli.EXIT_USAGE
    assert_one_line(err)
    assert "region" in err


def test_serve_port_in_use_exits_2(
    capsys: pytest.CaptureFixture[str], key: str, aws_env: None, fresh_default_client: None
) -> None:
    """A port already listened on: exit 2 in one line."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = run(capsys, "serve", "--port", str(port))
    assert code == cli.EXIT_USAGE
    assert_one_line(err)
    assert f"127.0.0.1:{port}" in err


def test_serve_runs_until_ctrl_c(key: str, tmp_path: Path) -> None:
    """The real command in a subprocess: it answers on its port and exits 0 on SIGINT."""
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("AWS_PROFILE", None)
    command = [sys.executable, "-m", "sfn_callback_urls", "serve", "--port", "0"]
    with subprocess.Popen(  # noqa: S603 - our own interpreter
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None
            first = process.stdout.readline()
            match = re.search(r"http://127\.0\.0\.1:(\d+)/respond", first)
            assert match, first
            base = f"http://127.0.0.1:{match.group(1)}"
            # A click cancelled mid-request (half a request line, then a reset): nothing printed.
            with socket.create_connection(("127.0.0.1", int(match.group(1))), timeout=10) as gone:
                gone.sendall(b"GET /respond?data=")
                gone.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            with pytest.raises(urllib.error.HTTPError) as answered:
                urllib.request.urlopen(f"{base}/respond?data=AAAA", timeout=10)  # noqa: S310
            assert answered.value.code == 400
            assert json.loads(answered.value.read())["error"] == "InvalidPayload"
            answered.value.close()
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert process.returncode == 0
    assert "Stopped." in out
    assert "Traceback" not in err
    assert "Exception occurred" not in err  # socketserver's header for a failed connection
    assert "AAAA" not in err  # the request log never shows the blob
    assert "callback rejected: ? 400 InvalidPayload" in err


# --- demo ------------------------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["approve", "reject"])
def test_demo_auto(
    capsys: pytest.CaptureFixture[str], aws_env: None, tmp_path: Path, answer: str
) -> None:
    """The demo with --auto approve|reject ends the execution the blog post's way and exits 0."""
    code, out, err = run(capsys, "demo", "--auto", answer, "--out", str(tmp_path))
    assert code == cli.EXIT_OK, out + err
    email = (tmp_path / "approval-email.html").read_text()
    assert "Hello Ben" in email
    assert "Approve Ben&#x27;s request?" in email  # approval_email's HTML part, escaped
    text = (tmp_path / "approval-email.txt").read_text()
    assert "Approve Ben's request?" in text
    assert "Subject: Approval needed: Approve Ben's request?" in out
    assert "SUCCEEDED" in out
    assert "as expected" in out
    if answer == "approve":
        assert "Hello Ben, your task is complete" in out
        assert '{"name_in_output": "Ben"}' in out
    else:
        assert "Your task was rejected" in out
        assert "moto" in out  # says the local emulator drops the cause
        assert "Catch took the 'rejected' failure" in out  # why a rejection ends SUCCEEDED
    # The real-token length it quotes is the README's (generated by benchmarks/figures.py).
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    quoted = re.search(r"<!-- fig:approve_url_chars -->([\d,]+)<!-- /fig -->", readme)
    assert quoted is not None
    assert f"({quoted.group(1).replace(',', '')} with a real 684-char token" in out
    assert "Traceback" not in err


def test_demo_auto_confirm_mode(
    capsys: pytest.CaptureFixture[str], aws_env: None, tmp_path: Path
) -> None:
    """In confirm mode the automatic click is a GET (asks) then a POST (completes)."""
    code, out, _ = run(capsys, "demo", "--auto", "approve", "--confirm", "--out", str(tmp_path))
    assert code == cli.EXIT_OK
    assert re.search(r"GET\s+approve\s+200 OK", out)
    assert re.search(r"POST\s+approve\s+200 OK", out)


def test_demo_confirm_page_says_what_the_email_says(aws_env: None, tmp_path: Path) -> None:
    """In confirm mode each link's confirm page shows the e-mail's title and details."""
    with demo_module.Demo(out_dir=tmp_path, confirm_get=True) as demo:
        assert demo.email is not None
        for action in ("approve", "reject"):
            asked = urllib.request.Request(  # noqa: S310 (the demo's local http URL)
                demo.urls[action], headers={"Accept": "text/html"}
            )
            with urllib.request.urlopen(asked, timeout=10) as answer:  # noqa: S310
                page = answer.read().decode()
            assert "<h1>Approve Ben&#x27;s request?</h1>" in page
            assert "A workflow started for Ben is waiting for your answer." in page
            assert "Approve lets it finish; Reject stops it as rejected." in page
        # ...which are the e-mail's own.
        assert "Approve Ben's request?\n\nA workflow started for Ben" in demo.email.text


def test_demo_times_out_without_a_click(
    capsys: pytest.CaptureFixture[str], aws_env: None, tmp_path: Path
) -> None:
    """No click before --timeout: exit 1, and the waiting execution is stopped."""
    code, out, _ = run(capsys, "demo", "--timeout", "0.2", "--out", str(tmp_path))
    assert code == cli.EXIT_REFUSED
    assert "no click" in out
    assert "stopped 1 waiting execution" in out


def test_demo_without_moto_says_what_to_install(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without moto the demo exits 2 naming the extra to install."""
    monkeypatch.setitem(sys.modules, "moto", None)
    code, _, err = run(capsys, "demo", "--auto", "approve")
    assert code == cli.EXIT_USAGE
    assert_one_line(err)
    assert "pip install 'sfn-callback-urls[demo]'" in err


def test_cli_import_does_not_need_moto() -> None:
    """Importing the CLI (and the demo module) never imports moto."""
    code = (
        "import sys, sfn_callback_urls._cli, sfn_callback_urls._demo; "
        "assert 'moto' not in sys.modules, 'moto imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)  # noqa: S603 - our own interpreter


def test_demo_open_opens_the_email_file(
    capsys: pytest.CaptureFixture[str],
    aws_env: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--open hands the e-mail file's file:// URI to the web browser."""
    opened: list[str] = []
    monkeypatch.setattr(demo_module.webbrowser, "open", lambda uri: opened.append(uri) or True)
    code, _, _ = run(capsys, "demo", "--open", "--auto", "approve", "--out", str(tmp_path))
    assert code == cli.EXIT_OK
    assert opened == [(tmp_path / "approval-email.html").resolve().as_uri()]


def test_demo_without_out_leaves_no_folder(
    capsys: pytest.CaptureFixture[str], aws_env: None
) -> None:
    """Without --out the e-mail's temporary folder is removed when the demo ends."""
    code, out, err = run(capsys, "demo", "--auto", "approve")
    assert code == cli.EXIT_OK, out + err
    match = re.search(r"e-mail written\s+(\S+approval-email\.html)", out)
    assert match, out
    assert not Path(match.group(1)).parent.exists()
