"""Sessions: tests, lint, typecheck, bench, load, demo, docs. `nox -l` lists them."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True

SRC = ["src", "tests", "benchmarks", "noxfile.py"]


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
