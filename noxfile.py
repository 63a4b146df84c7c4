"""Sessions: tests, lint, typecheck, bench, load, demo, docs. `nox -l` lists them."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True

SRC = ["src", "tests", "benchmarks", "fuzz", "noxfile.py"]


@nox.session
def tests(session: nox.Session) -> None:
    """Run the whole test suite (property tests use the `ci` hypothesis profile on CI)."""
    session.install("-e", ".[tests]")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff: lint and formatting."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", *SRC)
    session.run("ruff", "format", "--check", *SRC)


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package."""
    session.install(
        "-e",
        ".[tests]",  # sfn_callback_urls.testing is typed against hypothesis
        "mypy>=1.10",
        "boto3-stubs[stepfunctions,kms,sqs,ssm]",
        "types-jsonschema",
    )
    session.run("mypy", "--strict", "src")


@nox.session
def bench(session: nox.Session) -> None:
    """Mint/verify time and blob length against the baselines (prints a table)."""
    session.install("-e", ".[bench]")
    session.run("python", "benchmarks/bench.py", *session.posargs)


@nox.session
def load(session: nox.Session) -> None:
    """Loopback load test of the WSGI and ASGI apps with exactly-once checks (prints a table)."""
    session.install("-e", ".[tests]")
    session.run("python", "benchmarks/load.py", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """The main job: the blog post's approval flow (clicks "approve" itself unless given args)."""
    session.install("-e", ".[demo]")
    # CI has no person to click: without arguments the demo clicks for you and checks the end.
    args = session.posargs or ["--auto", "approve"]
    session.run("sfn-callback-urls", "demo", *args)
    if not session.posargs:
        session.log(
            "To click yourself: python3 -m nox -s demo -- --open  "
            "(or: -- --confirm --open, -- --auto reject, -- --help)"
        )


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site (mkdocs-material + mkdocstrings) with warnings as errors."""
    session.install(".", "mkdocs-material", "mkdocstrings[python]", "griffe-sphinx")
    session.run("mkdocs", "build", "--strict", "--site-dir", f"{session.create_tmp()}/site")


FUZZ_TARGETS = [
    "fuzz_open_blob",
    "fuzz_callback_url",
    "fuzz_create_urls",
    "fuzz_handler",
    "fuzz_http",
]


@nox.session
def fuzz(session: nox.Session) -> None:
    """Fuzz every target with atheris for a bounded time: 60 s each, or `nox -s fuzz -- 600`.

    Each target starts from a copy of its seed corpus (fuzz/corpus/ stays as committed) and
    prints executions, exec/s and findings; any finding (crash, timeout, out-of-memory) fails
    the session and names the file that reproduces it.
    """
    session.install("-e", ".[fuzz]")
    seconds = int(session.posargs[0]) if session.posargs else 60
    work = Path(session.create_tmp()).resolve() / "fuzz"
    python = str(Path(session.bin) / "python")
    rows, failed = [], []
    for target in FUZZ_TARGETS:
        root = work / target
        shutil.rmtree(root, ignore_errors=True)
        corpus, artifacts = root / "corpus", root / "artifacts"
        shutil.copytree(Path("fuzz/corpus") / target, corpus)
        artifacts.mkdir()
        command = [
            python,
            f"fuzz/{target}.py",
            str(corpus),
            f"-max_total_time={seconds}",
            "-rss_limit_mb=1024",
            "-timeout=10",
            "-print_final_stats=1",
            f"-artifact_prefix={artifacts}/",
        ]
        session.log(" ".join(command))
        result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        log = root / "libfuzzer.log"
        log.write_text(result.stdout + result.stderr)
        stats = dict(re.findall(r"^stat::(\w+):\s+(\d+)", result.stderr, re.MULTILINE))
        found = sorted(
            str(path)
            for path in artifacts.iterdir()
            if path.name.startswith(("crash-", "timeout-", "oom-", "leak-"))
        )
        findings = len(found) or int(result.returncode != 0)
        if findings:
            reproducers = ", ".join(found) or "no artifact"
            failed.append(f"{target}: exit {result.returncode}, {reproducers}; log {log}")
        rows.append(
            (
                target,
                stats.get("number_of_executed_units", "?"),
                stats.get("average_exec_per_sec", "?"),
                stats.get("peak_rss_mb", "?"),
                findings,
            )
        )
    session.log(f"{'target':<20} {'executions':>12} {'exec/s':>8} {'rss MB':>7} {'findings':>9}")
    for target, runs, rate, rss, findings in rows:
        session.log(f"{target:<20} {runs:>12} {rate:>8} {rss:>7} {findings:>9}")
    if failed:
        session.error("fuzzing found problems:\n" + "\n".join(failed))
