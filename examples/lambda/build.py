"""Build the app's Lambda code for `sam build`: run by the Makefile beside this file.

``python3 build.py ARTIFACTS_DIR --part PART`` fills ARTIFACTS_DIR (the function's or layer's
folder under ``.aws-sam/build``) with what it runs:

1. this repository's package, built as a wheel from the checkout (it is not on PyPI), from a
   copy of the sources so nothing stale in the checkout (``build/``, ``*.egg-info``) gets in;
2. its dependencies, as the manylinux wheels of the runtime's Python (``LAMBDA_PYTHON``) for the
   function's own architecture only (`architecture()`: the template's ``Architecture``
   parameter, as SAM resolved it, or ``SFN_CALLBACK_URLS_ARCHITECTURE``);
3. minus boto3 and its dependencies, which the Lambda runtime provides, and minus what the
   functions never load (`NEVER_LOADED`);
4. with bytecode compiled by the runtime's Python (``python3.13`` on PATH) with
   ``--invalidation-mode unchecked-hash``: Lambda's code folder is read-only, so without it
   every cold start compiles every module again (several times the import time). Without that
   interpreter the build fails, unless ``SFN_CALLBACK_URLS_SKIP_BYTECODE=true`` says to go on.

The parts: ``function`` (the package and its dependencies, what both handlers run) and
``original-layer`` (the ``original`` extra, aws-encryption-sdk, as a layer the template attaches
to the callback function only when AcceptOriginalUrls is on: pure Python, so one layer serves
both architectures).

Any surprise (a dependency that needs something the runtime provides but we removed, a native
module in the layer without a pure-Python fallback, a module that does not compile) stops the
build with a message instead of producing code that fails on Lambda. Only the standard library
and pip.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

#: The Lambda runtime's Python: keep it equal to the templates' ``Runtime`` (a test checks).
LAMBDA_PYTHON = "3.13"
#: pip platform tags of each Lambda architecture (Lambda's names; pip says aarch64 for arm64).
#: manylinux2014 (glibc 2.17) and manylinux 2.28 wheels: the Python 3.12 and 3.13 runtimes run on
#: Amazon Linux 2023 (glibc 2.34); most wheels are 2014 ones, some (google-re2) 2.28 only, and
#: pip takes only the tags it is given.
PLATFORMS = {
    "x86_64": ("manylinux2014_x86_64", "manylinux_2_28_x86_64"),
    "arm64": ("manylinux2014_aarch64", "manylinux_2_28_aarch64"),
}
#: Overrides the architecture SAM resolved from the template (``arm64`` or ``x86_64``).
ENV_ARCHITECTURE = "SFN_CALLBACK_URLS_ARCHITECTURE"
#: ``true`` lets the build go on without bytecode when the runtime's Python is missing.
ENV_SKIP_BYTECODE = "SFN_CALLBACK_URLS_SKIP_BYTECODE"
#: Distributions the Lambda Python runtime already has (boto3 and what it needs).
PROVIDED_BY_RUNTIME = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"}
)
#: The extra the layer holds: `original` opens the original app's `2-` URLs.
LAYER_EXTRA = "original"
#: Distributions the layer holds that rely on the runtime's boto3 (aws-encryption-sdk does).
RUNTIME_USERS = frozenset({"aws-encryption-sdk"})
#: Packages with a pure-Python fallback for their extension modules: the layer drops those
#: modules (wrapt checks ``_wrappers`` and falls back), so it serves both architectures.
PURE_PYTHON_FALLBACKS = frozenset({"wrapt"})
#: What neither handler ever loads (globs relative to the code folder), each for a reason; a
#: distribution's metadata stays. examples/check_build.py loads both handlers without them.
NEVER_LOADED = (
    "cffi",  # cryptography loads cffi's _cffi_backend extension, never the cffi package
    "pycparser",  # cffi's C parser: for building bindings, not for loading them
    "pydantic/v1",  # pydantic's copy of the 1.x API
    "pydantic/mypy.py",  # the mypy plugin
    "jsonschema/tests",
    "jsonschema/benchmarks",
    "referencing/tests",
    "jsonschema_specifications/tests",
    "sfn_callback_urls/testing",  # hypothesis strategies for users' tests
    "sfn_callback_urls/_cli.py",  # the command line and what only it runs
    "sfn_callback_urls/_demo.py",
    "sfn_callback_urls/_server.py",
    "sfn_callback_urls/__main__.py",
    "bin",  # console scripts
    "**/*.pyi",  # type stubs
    "**/*.c",  # C sources shipped beside their compiled modules
    "**/*.h",
    "*.dist-info/RECORD",  # pip's install record: nothing uninstalls from a Lambda
)
#: Where the code lives on Lambda: the prefix tracebacks show for the compiled modules.
LAMBDA_TASK_ROOT = "/var/task"
#: Where a layer's ``python/`` folder is on Lambda.
LAMBDA_LAYER_PYTHON = "/opt/python"
#: What the wheel build needs from the checkout.
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "src")

ROOT = Path(__file__).resolve().parents[2]
_TRUTHY = frozenset({"true", "1", "yes"})


class BuildError(Exception):
    """The build cannot produce code that works on Lambda; the message says why."""


def run(command: list[str]) -> None:
    """Run ``command``, echoing it; a failure stops the build."""
    print("+", " ".join(command), flush=True)
    # pip's warning about running as root is about the build's own Python: not touched here.
    env = {**os.environ, "PIP_ROOT_USER_ACTION": "ignore"}
    result = subprocess.run(command, env=env, check=False)  # noqa: S603 - our own commands
    if result.returncode:
        raise BuildError(f"{command[0]} exited with {result.returncode}")


def architecture(artifacts: Path, environ: Mapping[str, str]) -> str:
    """The architecture to build ``artifacts`` for: ``arm64`` or ``x86_64``.

    ``SFN_CALLBACK_URLS_ARCHITECTURE`` if set, else the one SAM resolved for this function from
    the template (the ``Architecture`` parameter's default, or ``sam build
    --parameter-overrides Architecture=...``): SAM does not pass it to make, but writes it to
    its build graph, ``.aws-sam/build.toml``, before it builds.
    """
    chosen = environ.get(ENV_ARCHITECTURE, "").strip()
    if chosen:
        if chosen not in PLATFORMS:
            raise BuildError(f"{ENV_ARCHITECTURE}={chosen!r}: expected one of {sorted(PLATFORMS)}")
        return chosen
    artifacts = artifacts.resolve()
    graph = artifacts.parent.parent / "build.toml"
    unknown = (
        f"cannot tell {artifacts.name}'s architecture: SAM's build graph ({graph}) does not "
        f"name it. Set {ENV_ARCHITECTURE}=arm64 or x86_64 (the template's Architecture)."
    )
    try:
        import tomllib
    except ImportError:  # Python 3.10
        raise BuildError(unknown + " (Reading the graph needs Python 3.11+.)") from None
    try:
        document = tomllib.loads(graph.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        raise BuildError(unknown) from None
    for definition in document.get("function_build_definitions", {}).values():
        if artifacts.name in definition.get("functions", []):
            found = definition.get("architecture", "x86_64")
            if found in PLATFORMS:
                return str(found)
    raise BuildError(unknown)


def build_wheel(work: Path) -> Path:
    """The package's wheel, built from a clean copy of the checkout's sources."""
    source = work / "source"
    source.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
            shutil.copytree(path, source / name, ignore=ignore)
        elif path.exists():
            shutil.copy2(path, source / name)
    wheels = work / "wheel"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    run([*pip, "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels), str(source)])
    (wheel,) = wheels.glob("*.whl")
    return wheel


def install(requirement: str, arch: str, target: Path) -> None:
    """Install ``requirement`` and its dependencies for Lambda's Python on ``arch``."""
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "--disable-pip-version-check",
            "install",
            "--quiet",
            "--no-compile",
            "--no-warn-conflicts",  # with the build's own Python, not with the target's
            "--target",
            str(target),
            "--implementation",
            "cp",
            "--python-version",
            LAMBDA_PYTHON,
            *(option for tag in PLATFORMS[arch] for option in ("--platform", tag)),
            "--only-binary=:all:",
            requirement,
        ]
    )


def normalise(name: str) -> str:
    """A distribution name in its canonical form (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def distributions(target: Path) -> dict[str, Path]:
    """The installed distributions in ``target``: canonical name -> ``*.dist-info`` folder."""
    found = {}
    for info in target.glob("*.dist-info"):
        for line in (info / "METADATA").read_text(encoding="utf-8").splitlines():
            if line.startswith("Name:"):
                found[normalise(line.partition(":")[2].strip())] = info
                break
    return found


def requirements(info: Path) -> set[str]:
    """The names a distribution requires unconditionally (extras left out)."""
    names = set()
    for line in (info / "METADATA").read_text(encoding="utf-8").splitlines():
        if line.startswith("Requires-Dist:") and "extra ==" not in line:
            match = re.match(r"Requires-Dist:\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line)
            if match:
                names.add(normalise(match.group(1)))
    return names


def remove_distributions(target: Path, names: set[str]) -> None:
    """Remove the installed distributions ``names`` from ``target``, file by file."""
    installed = distributions(target)
    for name in sorted(names & installed.keys()):
        info = installed[name]
        for line in (info / "RECORD").read_text(encoding="utf-8").splitlines():
            path = target / line.split(",")[0]
            if path.is_file():
                path.unlink()
        shutil.rmtree(info, ignore_errors=True)
    remove_empty_folders(target)


def remove_empty_folders(target: Path) -> None:
    """Remove the folders under ``target`` left empty."""
    for folder in sorted(target.rglob("*"), reverse=True):  # deepest first
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def remove_provided(target: Path, package: str) -> None:
    """Remove what the runtime provides, after checking only ``package`` needs it.

    (And `RUNTIME_USERS`, which are known to run with the runtime's boto3.)
    """
    installed = distributions(target)
    for name, info in sorted(installed.items()):
        if name in PROVIDED_BY_RUNTIME or name == package or name in RUNTIME_USERS:
            continue
        needs = requirements(info) & PROVIDED_BY_RUNTIME
        if needs:
            raise BuildError(f"{name} needs {sorted(needs)}, which the build leaves to the runtime")
    remove_distributions(target, set(PROVIDED_BY_RUNTIME))


def remove_never_loaded(target: Path) -> None:
    """Remove `NEVER_LOADED` (and the bytecode of what goes) from ``target``."""
    for pattern in NEVER_LOADED:
        for path in sorted(target.glob(pattern), reverse=True):
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
    remove_empty_folders(target)


def drop_extensions_with_fallbacks(target: Path) -> None:
    """Remove the layer's extension modules; each must have a pure-Python fallback."""
    for module in sorted(target.rglob("*.so")):
        top = module.relative_to(target).parts[0]
        if top not in PURE_PYTHON_FALLBACKS:
            raise BuildError(
                f"the layer would need native code ({module.relative_to(target)}), which it "
                "cannot hold for both architectures"
            )
        module.unlink()


def runtime_python() -> str | None:
    """The runtime's Python on this machine (``python3.13``), if it is there and works."""
    path = shutil.which(f"python{LAMBDA_PYTHON}")
    if path is None:
        return None
    check = [path, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]
    result = subprocess.run(check, capture_output=True, text=True, check=False)  # noqa: S603
    return path if result.returncode == 0 and result.stdout.strip() == LAMBDA_PYTHON else None


def compile_bytecode(
    folder: Path, prefix: str, environ: Mapping[str, str], python: str | None
) -> None:
    """Compile every module with the runtime's Python; without it, fail unless told not to."""
    if python is None:
        if environ.get(ENV_SKIP_BYTECODE, "").strip().lower() in _TRUTHY:
            print(
                f"NOTE: python{LAMBDA_PYTHON} is not on PATH: no bytecode compiled, as"
                f" {ENV_SKIP_BYTECODE} allows. Every cold start compiles the modules again"
                " (several times the import time; docs/deploy.md).",
                flush=True,
            )
            return
        raise BuildError(
            f"python{LAMBDA_PYTHON} (the runtime's Python) is not on PATH, so the build cannot"
            " compile the bytecode a cold start needs (without it, every cold start compiles"
            " every module: several times the import time). Install"
            f" python{LAMBDA_PYTHON} (e.g. pyenv install {LAMBDA_PYTHON}), or build without"
            " bytecode on purpose:"
            f" {ENV_SKIP_BYTECODE}=true sam build"
        )
    run(
        [
            python,
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            "--invalidation-mode",
            "unchecked-hash",
            "-s",
            str(folder),
            "-p",
            prefix,
            str(folder),
        ]
    )


def fingerprint(*parts: str) -> str:
    """A digest of everything the build reads from the checkout, this script and ``parts``."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update("\0".join(parts).encode())
    for name in SOURCES:
        path = ROOT / name
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in files:
            if file.is_file() and "__pycache__" not in file.parts and ".egg-info" not in str(file):
                digest.update(str(file.relative_to(ROOT)).encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()[:16]


def build_function(work: Path, arch: str, python: str | None, environ: Mapping[str, str]) -> Path:
    """The functions' code for ``arch`` in a folder under ``work``."""
    wheel = build_wheel(work)
    package = normalise(wheel.name.split("-")[0])
    tree = work / "function"
    install(str(wheel), arch, tree)
    remove_provided(tree, package)
    remove_never_loaded(tree)
    compile_bytecode(tree, LAMBDA_TASK_ROOT, environ, python)
    return tree


def build_original_layer(work: Path, python: str | None, environ: Mapping[str, str]) -> Path:
    """The layer: what the `LAYER_EXTRA` adds to the functions' code, pure Python only."""
    wheel = build_wheel(work)
    package = normalise(wheel.name.split("-")[0])
    # Whichever architecture: only pure Python stays. Resolved with the package, so the
    # layer's versions are the ones the package's own dependencies allow.
    base, full = work / "base", work / "full"
    install(str(wheel), "x86_64", base)
    install(f"{wheel}[{LAYER_EXTRA}]", "x86_64", full)
    remove_provided(full, package)
    remove_distributions(full, set(distributions(base)))
    drop_extensions_with_fallbacks(full)
    remove_never_loaded(full)
    tree = work / "layer"
    tree.mkdir()
    full.rename(tree / "python")  # a layer's Python code lives in python/ (/opt/python)
    compile_bytecode(tree / "python", LAMBDA_LAYER_PYTHON, environ, python)
    return tree


def build(artifacts: Path, part: str, environ: Mapping[str, str] = os.environ) -> None:
    """Fill ``artifacts`` with ``part``'s code.

    `sam build` runs the Makefile once per function: those of one architecture run the same
    code, so the first build is kept beside the functions' folders in SAM's build folder (which
    SAM empties at the start of every `sam build`, so dependencies are resolved afresh each
    time) and the others copy it.
    """
    python = runtime_python()
    arch = architecture(artifacts, environ) if part == "function" else "any"
    print(f"build.py: {part} for {arch}", flush=True)
    parent = artifacts.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    bytecode = "bytecode" if python else "no-bytecode"
    shared = parent / f".sfn-callback-urls-{fingerprint(part, arch, bytecode)}"
    if not shared.is_dir():
        # Work beside the functions' folders: the last step is an atomic rename into place.
        with tempfile.TemporaryDirectory(
            prefix=".sfn-callback-urls-work-", dir=parent
        ) as temporary:
            work = Path(temporary)
            if part == "function":
                tree = build_function(work, arch, python, environ)
            else:
                tree = build_original_layer(work, python, environ)
            try:
                tree.rename(shared)
            except OSError:  # `sam build --parallel`: another function's build was first
                if not shared.is_dir():
                    raise
    else:
        print(f"(same code as the one built before: copied from {shared})", flush=True)
    shutil.copytree(shared, artifacts, dirs_exist_ok=True)


def main(argv: list[str]) -> int:
    """``build.py ARTIFACTS_DIR --part PART`` (the Makefile passes SAM's ``$ARTIFACTS_DIR``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("artifacts", type=Path, help="the folder to fill ($ARTIFACTS_DIR)")
    parser.add_argument("--part", choices=("function", "original-layer"), default="function")
    args = parser.parse_args(argv)
    try:
        build(args.artifacts, args.part)
    except BuildError as error:
        print(f"build.py: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
