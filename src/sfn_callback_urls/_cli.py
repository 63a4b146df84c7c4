"""The ``sfn-callback-urls`` command: keygen, mint, inspect, serve and demo; wiring only.

Every command reads its configuration as the ready Lambda app does (`_config`: ``KEY_ID`` or
``SFN_CALLBACK_URLS_KEY``, ``SFN_CALLBACK_URLS_PURPOSE``, ``SFN_CALLBACK_URLS_MODE``,
``CALLBACK_BASE_URL``, the switches); options override single settings.

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
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, TextIO

from ._claims import Claims
from ._codec import DEFAULT_PURPOSE, refusal_hints
from ._config import (
    ENV_BASE_URL,
    ENV_CONFIRM_GET,
    ENV_ENABLE_OUTPUT_PARAMETERS,
    ENV_ENABLE_POST_ACTIONS,
    ENV_KEY,
    ENV_KEY_ID,
    ENV_MODE,
    ENV_PURPOSE,
    KEY_VARIABLES,
    Settings,
)
from ._contract import CALLBACK_PATH, QUERY_DATA
from ._features import Features
from ._logging import quiet_aws_loggers
from ._response_writer import response_json
from ._time import format_utc
from ._urls import CallbackQuery, Minter, no_base_url, open_callback
from ._validation import parse_create_urls_request
from .errors import ConfigurationError, ExpiredPayload, InvalidPayload, SfnCallbackUrlsError
from .keys import LocalKey

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

    from ._complete import StepFunctionsClient

__all__ = ["EXIT_OK", "EXIT_REFUSED", "EXIT_USAGE", "build_parser", "main", "serve_app"]

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
  export {ENV_KEY}=$({_PROG} keygen)              # a new local key
  {_PROG} mint request.json --base-url https://abc123.execute-api.us-east-1.amazonaws.com/prod
  {_PROG} inspect 'https://.../respond?action=approve&type=success&data=...'
  {_PROG} serve --port 8080                       # a local callback server
  {_PROG} demo                                    # the approval e-mail, offline

configuration: the environment of the ready Lambda app ({ENV_KEY_ID} or {ENV_KEY},
{ENV_PURPOSE}, {ENV_MODE}, {ENV_BASE_URL}, ...); options override it.
exit codes: 0 ok, 1 refused input (or demo outcome not as expected), 2 usage/configuration.
Run '{_PROG} COMMAND --help' for each command's options and examples.
"""

_KEY_HELP: Final = f"""\
keys: from the environment, like the ready Lambda app: {ENV_KEY_ID} (a KMS key) and/or
{ENV_KEY} (a local keyring, keys separated by commas, the primary first),
SFN_CALLBACK_URLS_WRAPPED_KEY or SFN_CALLBACK_URLS_PARAMETER. --key-file reads a keyring from a
file instead; --key takes it on the command line, where other users of this machine can see it
in the process list: prefer the environment or --key-file.
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
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`inspect ... | head`): not an error worth a traceback. Point
        # stdout at devnull so that the interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
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


def _version() -> str:
    from . import __version__

    return f"{_PROG} {__version__}"


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
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    keygen = commands.add_parser(
        "keygen",
        help="print a new local key",
        description="Print a new local key on stdout (a hint goes to stderr). Keep it secret.",
        epilog=f"examples:\n  export {ENV_KEY}=$({_PROG} keygen)\n",
        formatter_class=formatter,
    )
    keygen.set_defaults(func=_keygen)

    mint = commands.add_parser(
        "mint",
        help="create-URLs request JSON -> response JSON",
        description="Read a create-URLs request (JSON, the original app's contract) from a file "
        "or stdin and print the create-URLs response: one callback URL per action.",
        epilog=f"""\
examples:
  echo '{{"token": "...", "actions": [{{"name": "ok", "type": "success", "output": {{}}}}]}}' \\
    | {_PROG} mint --base-url https://abc123.execute-api.us-east-1.amazonaws.com/prod
  {_PROG} mint request.json        # the request may name its own base_url

{_KEY_HELP}
The switches {ENV_ENABLE_OUTPUT_PARAMETERS} and {ENV_ENABLE_POST_ACTIONS} are read from the
environment: what they leave off is refused, as the ready Lambda app refuses it.
exit codes: 0 minted, 1 the request is invalid (the reason on stderr), 2 no key/base URL.
""",
        formatter_class=formatter,
    )
    mint.add_argument("request", nargs="?", default="-", help="a JSON file, or - for stdin")
    mint.add_argument(
        "--base-url", help=f"where the callback handler is reachable (default: ${ENV_BASE_URL})"
    )
    _add_key_options(mint)
    mint.set_defaults(func=_mint)

    inspect = commands.add_parser(
        "inspect",
        help="verify a callback URL and show what it carries",
        description="Verify a callback URL (or its blob) and print its claims as JSON, or why "
        "it is refused, with hints on what to check (key, purpose, mode, a link cut short). "
        "The task token is shown only with --show-token.",
        epilog=f"""\
examples:
  {_PROG} inspect 'http://127.0.0.1:8080/respond?action=approve&type=success&data=...'
  {_PROG} inspect EQSjLQ-7ANd7bTq14Vsm... --show-token | jq -r .claims.token

{_KEY_HELP}
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
        "against the Step Functions endpoint boto3 is configured for (AWS_DEFAULT_REGION or "
        "AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL_SFN, ...). For development and local "
        "emulators: plain HTTP, one process.",
        epilog=f"""\
examples:
  export {ENV_KEY}=$({_PROG} keygen)
  {_PROG} serve --port 8080 --confirm-get
  {_PROG} mint request.json --base-url http://127.0.0.1:8080    # URLs that point here
  AWS_ENDPOINT_URL_SFN=http://127.0.0.1:5000 {_PROG} serve    # against a moto server

{_KEY_HELP}
The switches {ENV_ENABLE_OUTPUT_PARAMETERS}, {ENV_ENABLE_POST_ACTIONS} and {ENV_CONFIRM_GET}
are read from the environment too; the options below turn them on.
Requests are logged as one line each on stderr (never the token or the blob).
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
        "--auto",
        choices=["approve", "reject"],
        help="click this link for you (no browser) and check the execution ends as it should",
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
        "--out",
        metavar="DIR",
        help="where to write the e-mail, kept afterwards (default: a temporary directory, "
        "removed when the demo ends)",
    )
    demo.add_argument("--name", default="Ben", help="who is asked (default: Ben)")
    demo.set_defaults(func=_demo)
    return parser


def _add_key_options(command: argparse.ArgumentParser) -> None:
    keys = command.add_mutually_exclusive_group()
    keys.add_argument(
        "--key-file",
        metavar="PATH",
        help=f"read a local keyring from this file instead of the environment (${ENV_KEY}, "
        f"${ENV_KEY_ID}, ...)",
    )
    keys.add_argument(
        "--key",
        metavar="KEYRING",
        help="a local keyring on the command line (discouraged: visible in the process list)",
    )
    command.add_argument(
        "--mode",
        choices=["encrypted", "signed"],
        help=f"how blobs are sealed (default: ${ENV_MODE}, else encrypted)",
    )
    command.add_argument(
        "--purpose",
        help=f"the purpose blobs are bound to (default: ${ENV_PURPOSE}, else {DEFAULT_PURPOSE})",
    )


def _environment(args: argparse.Namespace) -> dict[str, str]:
    """``os.environ`` with the command's options laid over it."""
    environ = dict(os.environ)
    keyring = args.key
    if args.key_file is not None:
        try:
            with open(args.key_file, encoding="utf-8") as file:
                keyring = file.read()
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or "not UTF-8 text"
            raise ConfigurationError(f"Cannot read {args.key_file}: {reason}.") from None
    if keyring is not None:
        for name in KEY_VARIABLES:
            environ.pop(name, None)
        environ[ENV_KEY] = keyring
    if args.mode is not None:
        environ[ENV_MODE] = args.mode
    if args.purpose is not None:
        environ[ENV_PURPOSE] = args.purpose
    return environ


def _settings(args: argparse.Namespace) -> Settings:
    environ = _environment(args)
    if not any(environ.get(name) for name in KEY_VARIABLES):
        raise ConfigurationError(
            f"No key: set {ENV_KEY} (make one with `{_PROG} keygen`) or {ENV_KEY_ID} (a KMS key), "
            "or pass --key-file."
        )
    return Settings.from_environment(environ)


# --- keygen, mint, inspect -------------------------------------------------------------------


def _keygen(args: argparse.Namespace, out: TextIO) -> int:
    print(LocalKey.generate().to_string(), file=out)
    if sys.stderr.isatty():
        print(f"# A new local key. Keep it secret; e.g. export {ENV_KEY}=...", file=sys.stderr)
    return EXIT_OK


def _read_request(path: str) -> str:
    if path != "-":
        try:
            with open(path, encoding="utf-8") as file:
                return file.read()
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or "not UTF-8 text"
            raise ConfigurationError(f"Cannot read {path}: {reason}.") from None
    if sys.stdin.isatty():
        print(
            f"{_PROG}: reading the create-URLs request (JSON) from stdin; end it with Ctrl-D.",
            file=sys.stderr,
        )
    return sys.stdin.read()


def _mint(args: argparse.Namespace, out: TextIO) -> int:
    settings = _settings(args)
    request = parse_create_urls_request(_read_request(args.request))
    # What the ready app and `serve` with this environment would refuse, refused here too.
    Features.of(settings).check_mint(
        request.actions, output_parameters=request.enable_output_parameters
    )
    base_url = args.base_url or settings.base_url
    if base_url is None and request.base_url is None:
        raise no_base_url(f"pass --base-url or set ${ENV_BASE_URL}")
    response = Minter(settings.codec(), base_url=base_url).create_urls(request)
    print(json.dumps(response_json(response), indent=2), file=out)
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
        "issued_at": format_utc(claims.issued_at),
        "expires_at": None if claims.expires_at is None else format_utc(claims.expires_at),
        "output_parameters": claims.output_parameters,
    }
    if show_token:
        result["token"] = claims.token
    return result


def _print_json(value: Mapping[str, Any], out: TextIO) -> None:
    print(json.dumps(value, indent=2), file=out)


def _query_hints(text: str) -> list[str]:
    """What to check when a pasted URL has no (single) ``data`` parameter."""
    hints = []
    if "&amp;" in text:
        hints.append(
            "The URL contains '&amp;': it was copied from HTML source (or an e-mail's source). "
            "Replace each '&amp;' with '&', or copy the link itself."
        )
    hints.append(
        "A callback URL ends in /respond?action=NAME&type=TYPE&data=BLOB: copy the whole link."
    )
    return hints


def _inspect(args: argparse.Namespace, out: TextIO) -> int:
    from ._time import utcnow

    codec = _settings(args).codec()
    text: str = args.url.strip()
    if text.startswith("?"):  # pasted with its "?", as location.search shows a query
        text = text[1:]
    # A URL, or a query string, is read as such; anything else is taken for a bare blob.
    whole = "://" in text or text.startswith("/") or "=" in text or "?" in text
    now = utcnow()
    try:
        query = CallbackQuery.parse(text if whole else {QUERY_DATA: text})
    except InvalidPayload as error:
        hints = _query_hints(text)
        _print_json({"valid": False, **error.to_dict(), "hints": hints}, out)
        _error(f"{error.code}: {error.message}")
        for hint in hints:
            _error(f"hint: {hint}")
        return EXIT_REFUSED
    try:
        opened = open_callback(codec, query, now=now)
    except ExpiredPayload as error:
        # Authentic but expired: the claims are trustworthy, show them (token only if asked).
        result: dict[str, Any] = {"valid": False, **error.to_dict()}
        if isinstance(error.claims, Claims):
            result["claims"] = _claims_json(error.claims, show_token=args.show_token)
        _print_json(result, out)
        _error(f"{error.code}: {error.message}")
        return EXIT_REFUSED
    except InvalidPayload as error:
        hints = refusal_hints(codec, query.data)
        _print_json({"valid": False, **error.to_dict(), "hints": hints}, out)
        _error(f"{error.code}: {error.message}")
        for hint in hints:
            _error(f"hint: {hint}")
        return EXIT_REFUSED
    except SfnCallbackUrlsError as error:
        if isinstance(error, ConfigurationError):
            raise
        _print_json({"valid": False, **error.to_dict()}, out)
        _error(f"{error.code}: {error.message}")
        return EXIT_REFUSED
    claims = opened.claims
    result = {"valid": True, "claims": _claims_json(claims, show_token=args.show_token)}
    if claims.expires_at is not None and claims.expires_at < now:
        result["note"] = (
            f"expired at {format_utc(claims.expires_at)}, still accepted within the "
            f"{codec.leeway.total_seconds():g} s leeway for clock skew"
        )
    _print_json(result, out)
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
    settings = _settings(args)
    return _wsgi_app(settings, _serve_features(args, settings), stepfunctions_client)


def _serve_features(args: argparse.Namespace, settings: Settings) -> Features:
    """The environment's switches, with those ``serve``'s options turn on."""
    return Features.of(
        settings,
        output_parameters=args.enable_output_parameters,
        post_actions=args.enable_post_actions,
        confirm_get=args.confirm_get,
    )


def _wsgi_app(
    settings: Settings, features: Features, stepfunctions_client: StepFunctionsClient | None
) -> WSGIApplication:
    from .adapters._wsgi import make_wsgi_app

    handler = features.callback_handler(settings.codec(), stepfunctions_client=stepfunctions_client)
    return make_wsgi_app(handler)


def _stepfunctions_client() -> StepFunctionsClient:
    """The process-wide client, checked now so that a bad set-up fails before serving."""
    from botocore.exceptions import BotoCoreError, NoRegionError

    from ._complete import default_client
    from .keys._aws import default_session

    try:
        client = default_client()
        credentials = default_session().get_credentials()
    except NoRegionError:
        raise ConfigurationError(
            "No AWS region: set AWS_DEFAULT_REGION or AWS_REGION (or a region in your profile)."
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
    from ._server import LocalServer

    settings = _settings(args)  # the key first
    features = _serve_features(args, settings)
    if os.environ.get("AWS_ENDPOINT_URL_STEPFUNCTIONS") and not os.environ.get(
        "AWS_ENDPOINT_URL_SFN"
    ):
        raise ConfigurationError(
            "boto3 ignores AWS_ENDPOINT_URL_STEPFUNCTIONS: Step Functions' variable is "
            "AWS_ENDPOINT_URL_SFN."
        )
    quiet_aws_loggers()  # at DEBUG, botocore would log task tokens
    client: Any = _stepfunctions_client()
    server = LocalServer(_wsgi_app(settings, features, None), host=args.host, port=args.port)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    options = features.enabled()
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


def _demo(args: argparse.Namespace, out: TextIO) -> int:
    from ._demo import run_demo

    return EXIT_OK if run_demo(args, out) else EXIT_REFUSED
