"""The ``sfn-callback-urls`` command.

Exit codes scripts can rely on: 0 success, 1 the input was refused (invalid request, invalid or
expired URL), 2 usage or configuration error. Errors go to stderr in one line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, TextIO

from .claims import Claims
from .codec import DEFAULT_PURPOSE, Codec, Mode
from .errors import ConfigurationError, ExpiredPayload, SfnCallbackUrlsError
from .keys import Keyring, LocalKey
from .urls import CallbackQuery, Minter, open_callback

__all__ = ["KEY_ENV_VAR", "main"]

#: Environment variable holding a local key (or a comma-separated keyring, primary first).
KEY_ENV_VAR = "SFN_CALLBACK_URLS_KEY"

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return EXIT_USAGE
    try:
        code: int = args.func(args, sys.stdout)
    except ConfigurationError as error:
        print(f"sfn-callback-urls: {error.message}", file=sys.stderr)
        return EXIT_USAGE
    except SfnCallbackUrlsError as error:
        print(f"sfn-callback-urls: {error.code}: {error.message}", file=sys.stderr)
        return EXIT_REFUSED
    return code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sfn-callback-urls",
        description="Turn Step Functions task tokens into callback URLs, and back.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    keygen = commands.add_parser(
        "keygen",
        help="print a new local key",
        description=f"Print a new local key. Keep it secret; put it in ${KEY_ENV_VAR}.",
    )
    keygen.set_defaults(func=_keygen)

    def add_key_options(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--key",
            help=f"a local key or comma-separated keyring (default: ${KEY_ENV_VAR})",
        )
        command.add_argument(
            "--mode",
            choices=["encrypted", "signed"],
            default="encrypted",
            help="how blobs are sealed (default: encrypted)",
        )
        command.add_argument(
            "--purpose", default=DEFAULT_PURPOSE, help="the purpose the blobs are bound to"
        )

    mint = commands.add_parser(
        "mint",
        help="create-URLs request JSON -> response JSON",
        description="Read a create-URLs request (JSON) and print the create-URLs response.",
    )
    mint.add_argument("request", nargs="?", default="-", help="a JSON file, or - for stdin")
    mint.add_argument("--base-url", help="where the callback handler is reachable")
    add_key_options(mint)
    mint.set_defaults(func=_mint)

    inspect = commands.add_parser(
        "inspect",
        help="show what a callback URL carries",
        description="Verify a callback URL (or blob) and print its claims as JSON, "
        "or the exact reason it is rejected. The task token is shown only with --show-token.",
    )
    inspect.add_argument("url", help="a callback URL, its query string, or a bare blob")
    inspect.add_argument("--show-token", action="store_true", help="include the task token")
    add_key_options(inspect)
    inspect.set_defaults(func=_inspect)

    demo = commands.add_parser(
        "demo",
        help="mint and open the blog post's approve/reject URLs",
        description="Mint the approval e-mail's approve/reject URLs with a throwaway key, "
        "then open them again, showing what each step produces.",
    )
    demo.set_defaults(func=_demo)
    return parser


def _codec(args: argparse.Namespace) -> Codec:
    text = args.key or os.environ.get(KEY_ENV_VAR)
    if not text:
        raise ConfigurationError(
            f"No key: pass --key or set ${KEY_ENV_VAR} (make one with `sfn-callback-urls keygen`)."
        )
    mode = Mode.SIGNED if args.mode == "signed" else Mode.ENCRYPTED
    return Codec(Keyring.from_string(text), mode=mode, purpose=args.purpose)


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
        except OSError as error:
            raise ConfigurationError(f"Cannot read {args.request}: {error.strerror}") from None
    response = Minter(codec, base_url=args.base_url).create_urls(text)
    print(json.dumps(response.model_dump(mode="json", exclude_none=True), indent=2), file=out)
    return EXIT_OK


def _claims_json(claims: Claims, *, show_token: bool) -> dict[str, Any]:
    result: dict[str, Any] = {
        "transaction_id": claims.transaction_id,
        "action": claims.action.model_dump(mode="json", by_alias=True, exclude_defaults=True),
        "issued_at": claims.issued_at.isoformat().replace("+00:00", "Z"),
        "expires_at": None
        if claims.expires_at is None
        else claims.expires_at.isoformat().replace("+00:00", "Z"),
        "output_parameters": claims.output_parameters,
    }
    if show_token:
        result["token"] = claims.token
    return result


def _inspect(args: argparse.Namespace, out: TextIO) -> int:
    codec = _codec(args)
    text: str = args.url
    query = CallbackQuery.parse(text if ("=" in text or "?" in text) else {"data": text})
    try:
        opened = open_callback(codec, query)
    except ExpiredPayload as error:
        claims = codec.open(query.data, check_expiry=False)
        result = {"valid": False, "error": error.code, "message": error.message}
        result["claims"] = _claims_json(claims, show_token=args.show_token)
        print(json.dumps(result, indent=2), file=out)
        return EXIT_REFUSED
    result = {"valid": True, "claims": _claims_json(opened.claims, show_token=args.show_token)}
    print(json.dumps(result, indent=2), file=out)
    return EXIT_OK


def _demo(args: argparse.Namespace, out: TextIO) -> int:
    from .models import parse_create_urls_request

    token = _demo_token()
    key = LocalKey.generate()
    codec = Codec(key)
    minter = Minter(codec, base_url="https://abcdef1234.execute-api.us-east-1.amazonaws.com/prod")
    request = parse_create_urls_request(
        {
            "token": token,
            "actions": [
                {"name": "approve", "type": "success", "output": {"name_in_output": "Ben"}},
                {
                    "name": "reject",
                    "type": "failure",
                    "error": "rejected",
                    "cause": "Ben rejected it",
                },
            ],
        }
    )
    response = minter.create_urls(request.model_copy(update={}))
    print("Minted the approval e-mail's links with a throwaway key:", file=out)
    print(f"  transaction id: {response.transaction_id}", file=out)
    for name, url in response.urls.items():
        print(f"  {name} ({len(url)} characters): {url[:72]}...", file=out)
    print("\nOpening them again, as the callback handler will:", file=out)
    for name, url in response.urls.items():
        claims = open_callback(codec, url).claims
        action = claims.action.model_dump(mode="json", exclude_defaults=True)
        assert claims.token == token  # noqa: S101 - the demo shows the round trip holds
        print(f"  {name}: verified, sealed action {json.dumps(action)}", file=out)
    tampered = response.urls["approve"][:-1] + ("A" if response.urls["approve"][-1] != "A" else "B")
    try:
        open_callback(codec, tampered)
    except SfnCallbackUrlsError as error:
        print(f"\nA tampered link is refused: {error.code}: {error.message}", file=out)
    signed = Minter(Codec(key, mode=Mode.SIGNED), base_url=minter.base_url).mint(
        token, request.actions, expires_in=timedelta(days=7)
    )
    print(
        f"Signed mode (token readable by link holders) makes {len(signed.urls['approve'])}-"
        "character links.",
        file=out,
    )
    return EXIT_OK


def _demo_token() -> str:
    """A synthetic task token of the real shape: standard base64 of 512 random bytes."""
    import base64

    return base64.b64encode(b"\x00\x00\x00*\x00\x00\x00\x02" + os.urandom(504)).decode("ascii")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
