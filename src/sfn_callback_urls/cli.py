"""The ``sfn-callback-urls`` command: keygen, mint, inspect, serve and demo.

Exit codes scripts can rely on: 0 success, 1 the input was refused (invalid request, invalid or
expired URL) or the demo did not end as expected, 2 usage or configuration error (missing key,
unreadable file, no AWS region, port in use...). Errors go to stderr in one line, without a
traceback; key material and task tokens are never printed unless asked for (``--show-token``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import webbrowser
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final, TextIO

from .claims import Claims
from .codec import DEFAULT_PURPOSE, Codec, Mode
from .errors import ConfigurationError, ExpiredPayload, SfnCallbackUrlsError
from .keys import Keyring, LocalKey
from .urls import CALLBACK_PATH, CallbackQuery, Minter, open_callback

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

    from .complete import StepFunctionsClient
    from .demo import Demo, DemoResult, ServedRequest

__all__ = [
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_USAGE",
    "KEY_ENV_VAR",
    "build_parser",
    "main",
    "serve_app",
]

#: Environment variable holding a local key (or a comma-separated keyring, primary first).
KEY_ENV_VAR: Final = "SFN_CALLBACK_URLS_KEY"

EXIT_OK: Final = 0
"""Success (for ``demo --auto``: the execution ended as expected)."""
EXIT_REFUSED: Final = 1
"""The input was refused, or the demo's execution did not end as expected."""
EXIT_USAGE: Final = 2
"""Usage or configuration error."""
_EXIT_INTERRUPTED: Final = 130  # the shell's convention for Ctrl-C

_PROG: Final = "sfn-callback-urls"

_MAIN_EPILOG: Final = f"""\
examples:
  {_PROG} keygen                                  # a new key: export {KEY_ENV_VAR}=...
  {_PROG} mint request.json --base-url https://abc123.execute-api.us-east-1.amazonaws.com/prod
  {_PROG} inspect 'https://.../respond?action=approve&type=success&data=...'
  {_PROG} serve --port 8080                       # a local callback server
  {_PROG} demo                                    # the approval e-mail, offline

exit codes: 0 ok, 1 refused input (or demo outcome not as expected), 2 usage/configuration.
Run '{_PROG} COMMAND --help' for each command's options and examples.
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 with a usage line on bad arguments
    if not hasattr(args, "func"):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        code: int = args.func(args, sys.stdout)
    except ConfigurationError as error:
        _error(error.message)
        return EXIT_USAGE
    except SfnCallbackUrlsError as error:
        _error(f"{error.code}: {error.message}")
        return EXIT_REFUSED
    except KeyboardInterrupt:
        _error("interrupted.")
        return _EXIT_INTERRUPTED
    return code


def _error(message: str) -> None:
    """One line on stderr, whatever the message holds."""
    print(f"{_PROG}: {' '.join(message.split())}", file=sys.stderr)


# --- the parser ------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The command's argument parser (every subcommand sets ``func``)."""
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog=_PROG,
        description="Turn Step Functions task tokens into callback URLs, and back.",
        epilog=_MAIN_EPILOG,
        formatter_class=formatter,
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    keygen = commands.add_parser(
        "keygen",
        help="print a new local key",
        description="Print a new local key (the last line of the output). Keep it secret.",
        epilog=f"examples:\n  export {KEY_ENV_VAR}=$({_PROG} keygen | tail -n 1)\n",
        formatter_class=formatter,
    )
    keygen.set_defaults(func=_keygen)

    mint = commands.add_parser(
        "mint",
        help="create-URLs request JSON -> response JSON",
        description="Read a create-URLs request (JSON, the original app's contract) and print "
        "the create-URLs response: one callback URL per action.",
        epilog=f"""\
examples:
  echo '{{"token": "...", "actions": [{{"name": "ok", "type": "success", "output": {{}}}}]}}' \\
    | {_PROG} mint --base-url https://abc123.execute-api.us-east-1.amazonaws.com/prod
  {_PROG} mint request.json --key-file ./key   # the request may name its own base_url

exit codes: 0 minted, 1 the request is invalid (the reason on stderr), 2 no key/base URL.
""",
        formatter_class=formatter,
    )
    mint.add_argument("request", nargs="?", default="-", help="a JSON file, or - for stdin")
    mint.add_argument("--base-url", help="where the callback handler is reachable")
    _add_key_options(mint)
    mint.set_defaults(func=_mint)

    inspect = commands.add_parser(
        "inspect",
        help="verify a callback URL and show what it carries",
        description="Verify a callback URL (or its blob) and print its claims as JSON, or the "
        "exact reason it is refused. The task token is shown only with --show-token.",
        epilog=f"""\
examples:
  {_PROG} inspect 'http://127.0.0.1:8080/respond?action=approve&type=success&data=...'
  {_PROG} inspect EQSjLQ-7ANd7bTq14Vsm... --show-token | jq -r .claims.token

exit codes: 0 valid, 1 refused (InvalidPayload, ExpiredPayload, ActionMismatched...),
2 no key. An expired URL still shows its claims.
""",
        formatter_class=formatter,
    )
    inspect.add_argument("url", help="a callback URL, its query string, or a bare blob")
    inspect.add_argument("--show-token", action="store_true", help="include the task token")
    _add_key_options(inspect)
    inspect.set_defaults(func=_inspect)

    serve = commands.add_parser(
        "serve",
        help="run a local callback server (WSGI, wsgiref)",
        description="Serve callback URLs on a local port with the WSGI app, completing tasks "
        "against the Step Functions endpoint boto3 is configured for (AWS_REGION, "
        "AWS_PROFILE, AWS_ENDPOINT_URL_SFN, ...). For development and local emulators: "
        "plain HTTP, one process.",
        epilog=f"""\
examples:
  export {KEY_ENV_VAR}=$({_PROG} keygen | tail -n 1)
  {_PROG} serve --port 8080 --confirm-get
  {_PROG} mint request.json --base-url http://127.0.0.1:8080    # URLs that point here
  AWS_ENDPOINT_URL_SFN=http://127.0.0.1:5000 {_PROG} serve    # against a moto server

Requests are logged as one JSON line each on stderr (never the token or the blob).
""",
        formatter_class=formatter,
    )
    serve.add_argument("--host", default="127.0.0.1", help="address (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port (default: 8080)")
    serve.add_argument(
        "--enable-output-parameters",
        action="store_true",
        help="accept URLs minted with output parameters",
    )
    serve.add_argument(
        "--enable-post-actions", action="store_true", help="accept POST actions (webhooks)"
    )
    serve.add_argument(
        "--confirm-get",
        action="store_true",
        help="a GET shows a confirmation page; its button POSTs (safe from link scanners)",
    )
    _add_key_options(serve)
    serve.set_defaults(func=_serve)

    demo = commands.add_parser(
        "demo",
        help="the blog post's approval e-mail, offline (no AWS account)",
        description="Run the approval e-mail flow of the original blog post in this process: "
        "Step Functions and SQS emulated by moto, a real execution waiting for its task token, "
        "approve/reject links minted with a throwaway key and served on 127.0.0.1, and the "
        "approval e-mail written as an HTML file. Click a button and watch the execution end.",
        epilog=f"""\
examples:
  {_PROG} demo --open                 # opens the e-mail in your browser; click a button
  {_PROG} demo --confirm --open       # link-scanner-safe: the link asks, a button confirms
  {_PROG} demo --auto approve         # clicks for you; exit 0 if the execution succeeded
  {_PROG} demo --auto reject --out ./demo

needs moto: pip install 'sfn-callback-urls[demo]'
exit codes: 0 the execution ended as expected, 1 it did not (or no click before the timeout),
2 moto missing.
""",
        formatter_class=formatter,
    )
    demo.add_argument(
        "--auto", choices=["approve", "reject"], help="click this link yourself and check it"
    )
    demo.add_argument("--open", action="store_true", help="open the e-mail in a web browser")
    demo.add_argument(
        "--confirm",
        action="store_true",
        help="link-scanner-safe mode: a GET shows a page whose button confirms with a POST",
    )
    demo.add_argument(
        "--timeout",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="how long to wait for a click (default: 600)",
    )
    demo.add_argument(
        "--out", metavar="DIR", help="where to write the e-mail (default: a temp dir)"
    )
    demo.add_argument("--name", default="Ben", help="who is asked (default: Ben)")
    demo.set_defaults(func=_demo)
    return parser


def _add_key_options(command: argparse.ArgumentParser) -> None:
    source = command.add_mutually_exclusive_group()
    source.add_argument(
        "--key-file",
        metavar="PATH",
        help="a file holding a local key or comma-separated keyring (default: the environment "
        f"variable ${KEY_ENV_VAR}, which is the other safe place)",
    )
    source.add_argument(
        "--key",
        help="the key itself: discouraged, since command lines are visible to other users in "
        f"the process list and kept in shell history; prefer ${KEY_ENV_VAR} or --key-file",
    )
    command.add_argument(
        "--mode",
        choices=["encrypted", "signed"],
        default="encrypted",
        help="how blobs are sealed (default: encrypted)",
    )
    command.add_argument(
        "--purpose",
        default=DEFAULT_PURPOSE,
        help=f"the purpose blobs are bound to (default: {DEFAULT_PURPOSE})",
    )


def _read_key_file(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as file:
            return file.read().strip()
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not UTF-8 text"
        raise ConfigurationError(f"Cannot read the key file {path}: {reason}.") from None


def _codec(args: argparse.Namespace) -> Codec:
    key_file = getattr(args, "key_file", None)
    text = args.key or (_read_key_file(key_file) if key_file else os.environ.get(KEY_ENV_VAR))
    if not text:
        raise ConfigurationError(
            f"No key: set ${KEY_ENV_VAR} or pass --key-file (make one with `{_PROG} keygen`)."
        )
    mode = Mode.SIGNED if args.mode == "signed" else Mode.ENCRYPTED
    return Codec(Keyring.from_string(text), mode=mode, purpose=args.purpose)


# --- keygen, mint, inspect -------------------------------------------------------------------


def _keygen(args: argparse.Namespace, out: TextIO) -> int:
    print(
        f"# A new local key. Keep it secret; e.g. export {KEY_ENV_VAR}=<the line below>", file=out
    )
    print(LocalKey.generate().to_string(), file=out)
    return EXIT_OK


def _mint(args: argparse.Namespace, out: TextIO) -> int:
    codec = _codec(args)
    if args.request == "-":
        text = sys.stdin.read()
    else:
        try:
            with open(args.request, encoding="utf-8") as file:
                text = file.read()
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or "not UTF-8 text"
            raise ConfigurationError(f"Cannot read {args.request}: {reason}.") from None
    response = Minter(codec, base_url=args.base_url).create_urls(text)
    print(json.dumps(response.model_dump(mode="json", exclude_none=True), indent=2), file=out)
    return EXIT_OK


def _claims_json(claims: Claims, *, show_token: bool) -> dict[str, Any]:
    result: dict[str, Any] = {
        "transaction_id": claims.transaction_id,
        # name and type first and always (exclude_defaults would drop the type literal)
        "action": {
            "name": claims.action.name,
            "type": claims.action.type,
            **claims.action.model_dump(mode="json", by_alias=True, exclude_defaults=True),
        },
        "issued_at": _iso(claims.issued_at),
        "expires_at": None if claims.expires_at is None else _iso(claims.expires_at),
        "output_parameters": claims.output_parameters,
    }
    if show_token:
        result["token"] = claims.token
    return result


def _iso(moment: Any) -> str:
    return str(moment.isoformat()).replace("+00:00", "Z")


def _inspect(args: argparse.Namespace, out: TextIO) -> int:
    codec = _codec(args)
    text: str = args.url.strip()
    text = text[1:] if text.startswith("?") else text  # a query pasted with its '?'
    try:
        query = CallbackQuery.parse(text if ("=" in text or "?" in text) else {"data": text})
        opened = open_callback(codec, query)
    except ExpiredPayload as error:
        # Authentic but expired: the claims are trustworthy, show them (token only if asked).
        claims = codec.open(query.data, check_expiry=False)
        result = {"valid": False, "error": error.code, "message": error.message}
        result["claims"] = _claims_json(claims, show_token=args.show_token)
        print(json.dumps(result, indent=2), file=out)
        _error(f"{error.code}: {error.message}")
        return EXIT_REFUSED
    except SfnCallbackUrlsError as error:
        if isinstance(error, ConfigurationError):
            raise
        print(json.dumps({"valid": False, **error.to_dict()}, indent=2), file=out)
        _error(f"{error.code}: {error.message}")
        return EXIT_REFUSED
    result = {"valid": True, "claims": _claims_json(opened.claims, show_token=args.show_token)}
    print(json.dumps(result, indent=2), file=out)
    return EXIT_OK


# --- serve -----------------------------------------------------------------------------------


def serve_app(
    args: argparse.Namespace, *, stepfunctions_client: StepFunctionsClient | None = None
) -> WSGIApplication:
    """The WSGI app ``serve`` runs, from its parsed arguments.

    Args:
        args: ``build_parser().parse_args(["serve", ...])``.
        stepfunctions_client: the client tasks are completed with; by default the process-wide
            one from boto3's usual configuration.

    Raises:
        ConfigurationError: no key, or a damaged one.
    """
    from .adapters.wsgi import make_wsgi_app
    from .handler import CallbackHandler

    handler = CallbackHandler(
        _codec(args),
        stepfunctions_client=stepfunctions_client,
        enable_output_parameters=args.enable_output_parameters,
        enable_post_actions=args.enable_post_actions,
        confirm_get=args.confirm_get,
    )
    return make_wsgi_app(handler)


def _stepfunctions_client() -> StepFunctionsClient:
    """The process-wide client, checked now so that a bad set-up fails before serving."""
    import boto3
    from botocore.exceptions import BotoCoreError, NoRegionError

    from .complete import default_client

    try:
        client = default_client()
        credentials = boto3.Session().get_credentials()
    except NoRegionError:
        raise ConfigurationError(
            "No AWS region: set AWS_DEFAULT_REGION (or a region in your AWS profile)."
        ) from None
    except BotoCoreError as error:
        raise ConfigurationError(f"AWS configuration: {error}") from None
    if credentials is None:
        raise ConfigurationError(
            "No AWS credentials found (environment, profile or instance role): "
            "serve needs them to complete tasks."
        )
    return client


def _serve(args: argparse.Namespace, out: TextIO) -> int:
    from .demo import LocalServer

    app = serve_app(args)  # checks the key first
    if os.environ.get("AWS_ENDPOINT_URL_STEPFUNCTIONS") and not os.environ.get(
        "AWS_ENDPOINT_URL_SFN"
    ):
        raise ConfigurationError(
            "boto3 ignores AWS_ENDPOINT_URL_STEPFUNCTIONS: Step Functions' variable is "
            "AWS_ENDPOINT_URL_SFN."
        )
    client: Any = _stepfunctions_client()
    server = LocalServer(app, host=args.host, port=args.port)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    from .aws_lambda import quiet_aws_loggers

    quiet_aws_loggers()  # botocore at DEBUG logs task tokens (SFN_CALLBACK_URLS_DEBUG_AWS=true)
    options = [
        name
        for name, enabled in (
            ("confirm GET", args.confirm_get),
            ("output parameters", args.enable_output_parameters),
            ("POST actions", args.enable_post_actions),
        )
        if enabled
    ]
    print(f"Serving callback URLs on {server.url}{CALLBACK_PATH}", file=out)
    print(f"  mint with     --base-url {server.url}", file=out)
    print(f"  completes on  {client.meta.endpoint_url} ({client.meta.region_name})", file=out)
    print(f"  options       {', '.join(options) if options else 'none'}", file=out)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print("  warning       not loopback: plain HTTP, reachable by others", file=out)
    print("Press Ctrl-C to stop.", file=out, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nStopped.", file=out)
    return EXIT_OK


# --- demo ------------------------------------------------------------------------------------


class _Terminal:
    """Aligned, short steps; a tick and colours where the terminal can show them."""

    _LABEL_WIDTH: Final = 16

    def __init__(self, out: TextIO) -> None:
        self.out = out
        encoding = (getattr(out, "encoding", None) or "ascii").lower().replace("-", "")
        self.unicode = encoding in ("utf8", "utf16", "utf32")
        isatty = getattr(out, "isatty", None)
        self.color = bool(isatty and isatty()) and "NO_COLOR" not in os.environ
        self.ok = "✓" if self.unicode else "*"
        self.arrow = "→" if self.unicode else "->"
        self.bad = "✗" if self.unicode else "x"

    def paint(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.color else text

    def line(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def step(self, label: str, text: str, *, mark: str | None = None, code: str = "32") -> None:
        glyph = self.paint(mark or self.ok, code)
        self.line(f"  {glyph} {self.paint(label.ljust(self._LABEL_WIDTH), '1')} {text}")

    def more(self, text: str) -> None:
        self.line(f"    {' ' * self._LABEL_WIDTH} {text}")

    def dim(self, text: str) -> str:
        return self.paint(text, "2")


def _demo(args: argparse.Namespace, out: TextIO) -> int:
    from .demo import Demo

    term = _Terminal(out)

    def on_request(served: ServedRequest) -> None:
        label = served.action or "?"
        code = "32" if served.status < 400 else "31"
        term.step(
            "request",
            f"{served.method:<4} {label:<8} {term.paint(_status_text(served.status), code)}",
            mark=term.arrow,
            code="36",
        )

    term.line(
        f"{term.paint(f'{_PROG} demo', '1')}: the approval e-mail, offline "
        f"{term.dim('(moto in-process, no AWS account)')}"
    )
    term.line()
    demo = Demo(name=args.name, out_dir=args.out, confirm_get=args.confirm, on_request=on_request)
    try:
        demo.start()
        return _run_demo(demo, args, term)
    except KeyboardInterrupt:
        term.line()
        term.step("interrupted", "stopping", mark=term.bad, code="33")
        return _EXIT_INTERRUPTED
    finally:
        stopped = demo.stop()
        if stopped:
            term.step("cleaned up", f"stopped {len(stopped)} waiting execution(s)", code="33")


def _run_demo(demo: Demo, args: argparse.Namespace, term: _Terminal) -> int:
    from .demo import SUBJECT

    execution_name = demo.execution_arn.rsplit(":", 1)[-1]
    term.step("execution", f"{execution_name} {term.dim('waits for its task token')}")
    term.step(
        "task token",
        f"read from the request queue {term.dim(f'({demo.token_length} chars in moto)')}",
    )
    mode = "confirm mode: a GET asks, a button POSTs" if demo.confirm_get else "a GET completes"
    term.step("callback server", f"{demo.server_url}{CALLBACK_PATH} {term.dim(f'({mode})')}")
    for index, (name, url) in enumerate(demo.urls.items()):
        real = demo.real_token_url_lengths.get(name)
        note = term.dim(f"(~{real} with a real ~684-char AWS token)") if real else ""
        text = f"{name:<8} {len(url):>4} chars {note}"
        if index == 0:
            term.step("links minted", text)
        else:
            term.more(text)
    term.step("e-mail written", str(demo.email_path))
    term.line()
    term.line(f"  Subject: {SUBJECT}")
    for name, url in demo.urls.items():
        term.line(f"  {name.capitalize():<8} {url}")
    term.line()

    if args.open:
        opened = webbrowser.open(demo.email_path.resolve().as_uri())
        if not opened:
            term.step("browser", "could not open one: open the e-mail file yourself", mark="!")
    if args.auto:
        how = "GET, then the confirm button's POST" if demo.confirm_get else "GET"
        term.step("clicking", f"{args.auto} for you ({how})", mark=term.arrow, code="36")
        demo.click(args.auto)
    else:
        where = "in the browser" if args.open else f"in {demo.email_path.name} (or a link above)"
        term.line(f"  Click Approve or Reject {where}.")
        term.line(
            term.dim(f"  Waiting up to {args.timeout:g} s for a click; Ctrl-C stops the demo.")
        )
        term.line()
    try:
        result = demo.wait(timeout=args.timeout)
    except TimeoutError:
        term.step("no click", f"within {args.timeout:g} s", mark=term.bad, code="31")
        return EXIT_REFUSED
    return _report(result, args.auto, args.name, term)


def _report(result: DemoResult, expected: str | None, name: str, term: _Terminal) -> int:
    from .demo import demo_cause

    status_code = "32" if result.status == "SUCCEEDED" else "31"
    term.step("execution", term.paint(result.status, status_code))
    if result.answer is not None:
        term.step("confirmation", f'"{result.confirmation_text}"')
        if result.answer == "approve":
            term.more(f"output {json.dumps(result.confirmation)}")
        else:
            term.more(f"error  {json.dumps(result.confirmation.get('Error'))}")
            if result.cause_dropped:
                cause = json.dumps(demo_cause(name))
                term.more(term.dim(f"cause  {cause} was sent: moto, the local emulator,"))
                term.more(term.dim("       drops it (AWS keeps it)"))
    else:
        term.step("confirmation", result.confirmation_text, mark=term.bad, code="31")
    # Interactive: either answer is what the person chose. --auto: the blog post's outcome.
    as_expected = result.answer is not None if expected is None else result.ended_as(expected, name)
    if expected is not None:
        if as_expected:
            term.step("as expected", f"{expected} ended the execution the blog post's way")
        else:
            term.step("unexpected", f"{expected} did not end as expected", mark=term.bad, code="31")
    term.line()
    return EXIT_OK if as_expected else EXIT_REFUSED


def _status_text(status: int) -> str:
    from http import HTTPStatus

    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
