"""Sessions: tests, lint, typecheck, tests_tools, recipes, sam, bench, load, demo, docs, fuzz.

The README's `nox -s tests lint typecheck` stays light: the suite runs once per supported Python
with the `tests` extra only; the tests that drive heavy tools (headless Chromium, atheris) run in
`tests_tools`, the SAM templates' checks (SAM CLI, cfn-lint) in `sam`. `.ci/run` runs them all.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import nox

nox.needs_version = ">=2024.10.9"  # nox.project.python_versions
nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True
# A Python of the matrix that is not installed is skipped with a warning, except on CI (the `CI`
# variable), where it is an error: CI never passes by running fewer versions than it claims.


def _select_pyenv_pythons() -> None:
    """Let nox find every Python pyenv has installed, as the README promises.

    pyenv's shims run an interpreter only when it is selected: unless PYENV_VERSION is set
    already, select the current version first (so `python3` stays what it was), then every
    installed 3.x, so that `python3.10` ... `python3.13` all resolve.
    """
    pyenv = shutil.which("pyenv")
    if pyenv is None or os.environ.get("PYENV_VERSION"):
        return
    run = {"capture_output": True, "text": True, "check": False}
    current = subprocess.run([pyenv, "version-name"], **run).stdout.strip()  # noqa: S603
    listed = subprocess.run([pyenv, "versions", "--bare", "--skip-aliases"], **run).stdout  # noqa: S603
    installed = sorted(
        (
            line.strip()
            for line in listed.splitlines()
            if re.fullmatch(r"3\.\d+\.\d+", line.strip())
        ),
        key=lambda version: tuple(int(part) for part in version.split(".")),
    )
    if current and installed:
        os.environ["PYENV_VERSION"] = ":".join([current, *installed])


_select_pyenv_pythons()

SRC = ["src", "tests", "benchmarks", "fuzz", "examples", "noxfile.py"]
PYPROJECT = nox.project.load_toml("pyproject.toml")
#: Every Python the classifiers name, oldest first.
PYTHONS = nox.project.python_versions(PYPROJECT)


def _test_pythons() -> list[str]:
    """The Pythons `tests` runs on: all of PYTHONS, or those SFN_CALLBACK_URLS_TEST_PYTHONS names.

    The variable takes versions and the words `oldest` and `newest`, comma-separated; `.ci/run`
    sets `oldest,newest` to keep CI fast.
    """
    wanted = os.environ.get("SFN_CALLBACK_URLS_TEST_PYTHONS", "").replace(" ", "")
    if not wanted:
        return PYTHONS
    aliases = {"oldest": PYTHONS[0], "newest": PYTHONS[-1]}
    chosen = {aliases.get(item, item) for item in wanted.split(",") if item}
    unknown = chosen - set(PYTHONS)
    if unknown:
        raise SystemExit(f"SFN_CALLBACK_URLS_TEST_PYTHONS: {sorted(unknown)} not in {PYTHONS}")
    return [python for python in PYTHONS if python in chosen]


#: The tests that need heavy tools (headless Chromium and axe-core, atheris): every
#: tests/test_browser*.py and tests/test_fuzz.py. `tests` leaves them to `tests_tools`.
TOOL_TESTS = [
    *sorted(
        f"tests/{path.name}" for path in (Path(__file__).parent / "tests").glob("test_browser*.py")
    ),
    "tests/test_fuzz.py",
]
#: axe-core, pinned by its lockfile: `npm ci --prefix tests/axe` (tests/browser_harness.py).
AXE_FOLDER = "tests/axe"
#: The recipes' tests need the web frameworks: `tests` leaves them to `recipes`.
RECIPE_TESTS = ["tests/test_recipes.py"]


@nox.session(python=_test_pythons())
def tests(session: nox.Session) -> None:
    """Run the test suite on each supported Python (the `ci` hypothesis profile on CI).

    The browser and fuzzing tests (TOOL_TESTS) are left out here: `tests_tools` runs them once,
    with their heavy dependencies.
    """
    session.install("-e", ".[tests]")
    ignored = [f"--ignore={path}" for path in (*TOOL_TESTS, *RECIPE_TESTS)]
    session.run("pytest", *ignored, *session.posargs)
    session.log(
        f"Not run here: {', '.join(TOOL_TESTS)} (nox -s tests_tools), "
        f"{', '.join(RECIPE_TESTS)} (nox -s recipes)"
    )


@nox.session
def recipes(session: nox.Session) -> None:
    """The web framework recipes of examples/frameworks/.

    FastAPI, Starlette, Litestar, Flask and Django, with the ``recipes`` extra.
    """
    session.install("-e", ".[tests,recipes]")
    session.run("pytest", *(session.posargs or RECIPE_TESTS))


@nox.session
def tests_tools(session: nox.Session) -> None:
    """The tests that drive heavy tools: headless Chromium with axe-core, and short atheris runs.

    The browser tests need Debian's `chromium` and `chromium-driver` (`.ci/run` installs them)
    and npm (axe-core is installed here, from its lockfile). Here a missing tool fails the
    tests (SFN_CALLBACK_URLS_REQUIRE_TOOLS); in a plain pytest run they are skipped with the
    command that installs it.
    """
    session.install("-e", ".[tests,browser,fuzz]")
    session.run(
        "npm", "ci", "--prefix", AXE_FOLDER, "--no-audit", "--no-fund", "--loglevel=error",
        external=True,
    )  # fmt: skip
    session.env["SFN_CALLBACK_URLS_REQUIRE_TOOLS"] = "1"
    session.run("pytest", *(session.posargs or TOOL_TESTS))


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff: lint and formatting."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", *SRC)
    session.run("ruff", "format", "--check", *SRC)


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package, with only what its imports need."""
    session.install(
        "-e",
        ".[testing]",  # sfn_callback_urls.testing is typed against hypothesis
        "mypy>=1.10",
        "boto3-stubs[stepfunctions,kms,sqs,ssm]",
        "types-jsonschema",
        "aws-lambda-powertools>=3.0",  # adapters.powertools_response is typed against it
    )
    # tests/typechecks: code that must type-check against the public API (Powertools objects).
    session.run("mypy", "--strict", "src", "tests/typechecks")


#: The boto3 the Lambda Python runtimes provide is at least this old one: the check imports
#: the handlers with it, as Lambda would (the build leaves boto3 out of the functions' code).
RUNTIME_BOTO3 = "boto3>=1.34,<1.35"


#: The Lambda architectures: each template is built for both, the first without options (the
#: templates' default), as a user would.
ARCHITECTURES = ("arm64", "x86_64")


@nox.session
def sam(session: nox.Session) -> None:
    """Every SAM template under examples/: `sam validate --lint`, `sam build`, then load the code.

    As a user would: `sam build` in the template's folder, no options (arm64, the templates'
    default), then again with `--parameter-overrides Architecture=x86_64`. After each build
    examples/check_build.py checks every function: its size (<= 30 MiB unzipped), native code of
    its architecture only (by the ELF header), and, on the architecture of this machine, its
    handler loaded with the template's runtime Python (`python3.13` must be on PATH: with pyenv,
    PYENV_VERSION lists it; `.ci/run` sets it), isolated from this machine's packages, with only
    a runtime-like boto3 beside the code: any import error or missing bytecode fails. The build
    itself fails without python3.13 (SFN_CALLBACK_URLS_SKIP_BYTECODE=true is the user's opt-out,
    never set here).
    """
    session.install("aws-sam-cli", "pyyaml")
    session.env.update({"SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "us-east-1"})
    session.env.pop("SFN_CALLBACK_URLS_SKIP_BYTECODE", None)
    session.env.pop("SFN_CALLBACK_URLS_ARCHITECTURE", None)
    tmp = Path(session.create_tmp()).resolve()
    boto3 = tmp / "runtime-boto3"
    if not (boto3 / "boto3").is_dir():
        session.run(
            "python", "-m", "pip", "install", "--quiet", "--no-compile", "--no-warn-conflicts",
            "--target", str(boto3), RUNTIME_BOTO3,
        )  # fmt: skip
    check = Path("examples/check_build.py").resolve()
    templates = sorted(
        path for path in Path("examples").rglob("template.yaml") if ".aws-sam" not in path.parts
    )
    root = Path.cwd()
    for template in templates:
        session.log(f"--- {template}")
        with session.chdir(root / template.parent):
            session.run("sam", "validate", "--lint")
            for index, arch in enumerate(ARCHITECTURES):
                overrides = ["--parameter-overrides", f"Architecture={arch}"] if index else []
                session.run("sam", "build", *overrides)
                session.run(
                    "python", str(check), ".aws-sam/build", "--boto3", str(boto3),
                    "--parameter", f"Architecture={arch}",
                )  # fmt: skip


@nox.session
def bench(session: nox.Session) -> None:
    """The calls users make, timed against a raw floor and peers; cold starts; URL lengths."""
    session.install("-e", ".[bench]")
    # Without arguments: the full run, its JSON kept in benchmarks/results.json, and the figures
    # README.md and docs/ quote rewritten from it (benchmarks/figures.py). Exits 1 on a missed
    # target, after writing both.
    args = session.posargs or ["--json", "benchmarks/results.json", "--figures"]
    session.run("python", "benchmarks/bench.py", *args)


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
            "To click yourself: .venv/bin/nox -s demo -- --open  "
            "(or: -- --confirm --open, -- --auto reject, -- --help)"
        )


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site (mkdocs-material + mkdocstrings) with warnings as errors."""
    session.install(".[docs]")
    site = Path(session.create_tmp()).resolve() / "site"
    session.run("mkdocs", "build", "--strict", "--site-dir", str(site))
    session.log(f"The site is in {site}: open {site / 'index.html'}")


#: Every fuzz/fuzz_*.py script, each with its seed corpus in fuzz/corpus/<name>/.
FUZZ_TARGETS = sorted(path.stem for path in (Path(__file__).parent / "fuzz").glob("fuzz_*.py"))


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
