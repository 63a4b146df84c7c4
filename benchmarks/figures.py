"""The figures the README and the docs quote, generated, never typed.

Every figure in the docs sits between markers, ``<!-- fig:NAME -->937<!-- /fig -->``, and comes
from here: lengths are computed now, with this checkout's code, on the benchmark's payload;
times and ratios come from ``benchmarks/results.json``, the ``--json`` output of the last
``nox -s bench`` (which rewrites the figures after each run).

    python benchmarks/figures.py           # rewrite every marked figure
    python benchmarks/figures.py --check   # exit 1 if a document disagrees (tests run this)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from results import (  # this folder is on sys.path when run as a script
    ColdResult,
    RowResult,
    cold_table,
    make_task_token,
    markdown_table,
    verdict,
)

from sfn_callback_urls import Codec, LocalKey, Minter, Mode, SuccessAction

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results.json"
DOCUMENTS = [ROOT / "README.md", ROOT / "docs" / "index.md", ROOT / "docs" / "benchmarks.md"]
ORIGINAL = "original app '2-' (Encryption SDK)"
ORIGINAL_ENCRYPT = f"{ORIGINAL}: encrypt"
MARKER = re.compile(r"<!-- fig:(?P<name>[a-z0-9_]+) -->(?P<value>.*?)<!-- /fig -->")
RESULTS_BLOCK = re.compile(r"(<!-- results:start -->\n).*?(<!-- results:end -->)", re.DOTALL)


def _approve_url(results: dict[str, Any], mode: Mode) -> str:
    """The benchmark's approve URL, minted now: its length depends on the format, not the key."""
    payload = results["payload"]
    token = make_task_token()  # the benchmark's own token: its length decides the URL's
    assert len(token) == payload["token_chars"]
    action = SuccessAction.model_validate(payload["action"])
    minter = Minter(Codec(LocalKey(bytes(32), key_id=b"fig1"), mode=mode), payload["base_url"])
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    expires = now + timedelta(seconds=payload["expires_in_seconds"])
    return minter.mint(token, [action], expires_at=expires, now=now).urls[action.name]


def _row(results: dict[str, Any], prefix: str) -> dict[str, Any]:
    [row] = [row for row in results["rows"] if row["name"].startswith(prefix)]
    return row


def _us(value: float) -> str:
    return f"{value:.1f}"


def _ratio(value: float) -> str:
    return f"{value:.2f}"


def figures(results: dict[str, Any]) -> dict[str, str]:
    """Every figure by name, as the documents print it."""
    encrypted = _approve_url(results, Mode.ENCRYPTED)
    signed = _approve_url(results, Mode.SIGNED)
    blob = encrypted.rsplit("data=", 1)[1]
    lengths = results["lengths"]
    if lengths["inner sfn-callback-urls (encrypted)"]["approve_url_chars"] != len(encrypted):
        raise SystemExit(
            "benchmarks/results.json is older than the code: its approve URL length differs "
            "from today's. Run `.venv/bin/nox -s bench` again."
        )
    rows: dict[str, Callable[[], str]] = {
        "mint_us": lambda: _us(_row(results, "Minter.mint(token, [approve]),")["us"]),
        "mint_ratio": lambda: _ratio(_row(results, "Minter.mint(token, [approve]),")["ratio"]),
        "mint2_ratio": lambda: _ratio(_row(results, "Minter.mint(token, [approve, ")["ratio"]),
        "create_urls_ratio": lambda: _ratio(_row(results, "create_urls_handler(request")["ratio"]),
        "kept_validate_ratio": lambda: _ratio(
            _row(results, "kept work: CreateUrlsRequest")["ratio"]
        ),
        "kept_log_ratio": lambda: _ratio(_row(results, "kept work: one audit log")["ratio"]),
        "open_us": lambda: _us(_row(results, "open_callback")["us"]),
        "open_ratio": lambda: _ratio(_row(results, "open_callback")["ratio"]),
        "handle_us": lambda: _us(_row(results, "CallbackHandler.handle")["us"]),
        "handle_ratio": lambda: _ratio(_row(results, "CallbackHandler.handle")["ratio"]),
        "seal_ratio": lambda: _ratio(
            _row(results, "inner sfn-callback-urls (encrypted): Codec.seal")["ratio"]
        ),
        "inner_open_ratio": lambda: _ratio(
            _row(results, "inner sfn-callback-urls (encrypted): Codec.open")["ratio"]
        ),
        "fernet_ratio": lambda: _ratio(_row(results, "cryptography Fernet: encrypt")["ratio"]),
        "floor_seal_us": lambda: _us(
            _row(results, "floor: AES-256-GCM + json + base64url: seal")["us"]
        ),
        "original_mint_us": lambda: f"{_row(results, ORIGINAL_ENCRYPT)['us']:,.0f}",
        "cold_mint_ms": lambda: f"{results['cold']['cold_mint']['cpu_ms']:.0f}",
        "cold_ratio": lambda: _ratio(results["cold_summary"]["cold_mint_over_baseline"]),
        "cold_one_model_ratio": lambda: _ratio(
            results["cold_summary"]["one_model_baseline_over_baseline"]
        ),
        "cold_basemodel_ms": lambda: f"{results['cold']['basemodel_aead_baseline']['cpu_ms']:.0f}",
        "cold_baseline_ms": lambda: f"{results['cold']['pydantic_aead_baseline']['cpu_ms']:.0f}",
        "cold_no_bytecode_ms": lambda: f"{results['cold']['cold_mint_no_bytecode']['cpu_ms']:.0f}",
        "aws_lambda_over_boto3_ms": lambda: (
            f"{results['cold_summary']['aws_lambda_import_minus_boto3_ms']:+.0f}"
        ),
    }
    found = {
        "approve_url_chars": f"{len(encrypted):,}",
        "approve_blob_chars": f"{len(blob):,}",
        "signed_url_chars": f"{len(signed):,}",
        "derived_url_chars": f"{lengths['inner KMS derived (moto, warm cache)']['approve_url_chars']:,}",  # noqa: E501
        "original_blob_chars": f"{lengths[ORIGINAL]['blob_chars']:,}",
        "fernet_url_chars": f"{lengths['cryptography Fernet']['approve_url_chars']:,}",
        "itsdangerous_url_chars": f"{lengths['itsdangerous URLSafeTimedSerializer']['approve_url_chars']:,}",  # noqa: E501
    }
    found.update({name: make() for name, make in rows.items()})
    return found


def results_block(results: dict[str, Any]) -> str:
    """The whole output of the run, as bench.py prints it: machine, warm and cold tables."""
    machine = results["machine"]
    versions = ", ".join(f"{name} {version}" for name, version in machine["versions"].items())
    rows = [RowResult(**row) for row in results["rows"]]
    lines = [
        "```text",
        f"Python {machine['python']} ({machine['implementation']}), nproc {machine['nproc']}, "
        f"{machine['platform']}, {machine['openssl']}; {versions}",
        f"load average at start: {machine['load_average_at_start']}",
        f"statistic: {results['statistic']}",
        "```",
        "",
        markdown_table(rows),
        "",
        *(note + "\n" for note in results["notes"]),
    ]
    if results.get("cold"):
        cold = {key: ColdResult(**value) for key, value in results["cold"].items()}
        lines += [cold_table(cold, results["settings"]["cold_runs"]), ""]
    lines.append("Targets:")
    lines.append("")
    for target in results["targets"]:
        mark = "x" if target["met"] else " "
        said = verdict(target["met"], gating=target["gating"])
        lines.append(f"- [{mark}] {target['description']}: {target['measured']} ({said})")
    return "\n".join(lines) + "\n"


def rewrite(text: str, values: dict[str, str], block: str = "") -> str:
    """``text`` with every marked figure set to its value (unknown names are an error)."""

    def one(match: re.Match[str]) -> str:
        name = match["name"]
        if name not in values:
            raise SystemExit(f"unknown figure {name!r}")
        return f"<!-- fig:{name} -->{values[name]}<!-- /fig -->"

    text = MARKER.sub(one, text)
    if block:
        text = RESULTS_BLOCK.sub(lambda match: match[1] + block + match[2], text)
    return text


def main(argv: list[str] | None = None) -> int:
    """Rewrite the marked figures of the documents, or check them (``--check``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report documents that differ")
    parser.add_argument("--results", type=Path, default=RESULTS, help="the benchmark's JSON")
    args = parser.parse_args(argv)
    results = json.loads(args.results.read_text(encoding="utf-8"))
    values = figures(results)
    block = results_block(results)
    stale = []
    for path in DOCUMENTS:
        text = path.read_text(encoding="utf-8")
        updated = rewrite(text, values, block)
        if updated != text:
            stale.append(path.relative_to(ROOT))
            if not args.check:
                path.write_text(updated, encoding="utf-8")
    if args.check and stale:
        names = ", ".join(str(path) for path in stale)
        print(f"figures out of date in {names}: python benchmarks/figures.py", file=sys.stderr)
        return 1
    for path in stale:
        print(f"updated {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
