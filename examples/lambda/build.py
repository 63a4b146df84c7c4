"""Build the app's Lambda code for `sam build`: run by the Makefile beside this file.

``python3 build.py ARTIFACTS_DIR`` fills ARTIFACTS_DIR (the function's folder under
``.aws-sam/build``) with what the function runs:

1. this repository's package, built as a wheel from the checkout (it is not on PyPI), from a
   copy of the sources so nothing stale in the checkout (``build/``, ``*.egg-info``) gets in;
2. its dependencies, as the manylinux wheels for the runtime's Python (``LAMBDA_PYTHON``) of
   *both* Lambda architectures: pydantic-core, cryptography, rpds-py and cffi are native code.
   Extension modules carry their architecture in their file name, so both sets sit side by side
   and Python loads the one for the machine it runs on; the ``*.abi3.so`` modules (cryptography)
   are renamed to that form first. One artifact thus serves the template's ``Architecture``
   parameter whichever value ``sam deploy --guided`` is given, after the build;
3. minus boto3 and its dependencies, which the Lambda runtime provides;
4. with bytecode compiled by the runtime's Python (``python3.13`` on PATH) with
   ``--invalidation-mode unchecked-hash``: Lambda's code folder is read-only, so without it
   every cold start compiles every module again. Without that interpreter the build still
   succeeds and says so.

Any surprise (a file that differs between the architectures, a dependency that needs something
the runtime provides but we removed, a module that does not compile) stops the build with a
message instead of producing code that fails on Lambda. Only the standard library and pip.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

#: The Lambda runtime's Python: keep it equal to the templates' ``Runtime`` (a test checks).
LAMBDA_PYTHON = "3.13"
#: pip platform tag of each Lambda architecture (Lambda calls aarch64 "arm64").
#: manylinux2014 (glibc 2.17) and manylinux 2.28 wheels: the Python 3.12 and 3.13 runtimes run on
#: Amazon Linux 2023 (glibc 2.34); most wheels are 2014 ones, some (google-re2) 2.28 only, and
#: pip takes only the tags it is given.
PLATFORMS = {
    "x86_64": ("manylinux2014_x86_64", "manylinux_2_28_x86_64"),
    "aarch64": ("manylinux2014_aarch64", "manylinux_2_28_aarch64"),
}
#: Distributions the Lambda Python runtime already has (boto3 and what it needs).
PROVIDED_BY_RUNTIME = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"}
)
#: The package's extras in the build: `original` opens the original app's `2-` URLs when the
#: stack's AcceptOriginalUrls is on (one build serves either setting).
EXTRAS = ("original",)
#: Distributions besides the package that may rely on the runtime's boto3 (aws-encryption-sdk,
#: of the `original` extra, requires it).
RUNTIME_USERS = frozenset({"aws-encryption-sdk"})
#: Where the code lives on Lambda: the prefix tracebacks show for the compiled modules.
LAMBDA_TASK_ROOT = "/var/task"
#: What the wheel build needs from the checkout.
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "src")

ROOT = Path(__file__).resolve().parents[2]


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


def install(wheel: Path, arch: str, target: Path) -> None:
    """Install ``wheel`` with `EXTRAS` and its dependencies for Lambda's Python on ``arch``."""
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
            f"{wheel}[{','.join(EXTRAS)}]",
        ]
    )
    shutil.rmtree(target / "bin", ignore_errors=True)  # console scripts: nothing runs them


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
    for name in PROVIDED_BY_RUNTIME & installed.keys():
        info = installed[name]
        for line in (info / "RECORD").read_text(encoding="utf-8").splitlines():
            path = target / line.split(",")[0]
            if path.is_file():
                path.unlink()
        shutil.rmtree(info, ignore_errors=True)
    for folder in sorted(target.rglob("*"), reverse=True):  # deepest first
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def tag_abi3_modules(target: Path, arch: str) -> None:
    """Rename ``*.abi3.so`` extension modules to the runtime's name for ``arch``."""
    tag = f".cpython-{LAMBDA_PYTHON.replace('.', '')}-{arch}-linux-gnu.so"
    for module in target.rglob("*.abi3.so"):
        module.rename(module.with_name(module.name[: -len(".abi3.so")] + tag))


def merge(source: Path, destination: Path) -> None:
    """Copy ``source`` into ``destination``; files both have must be equal (metadata aside)."""
    destination.mkdir(exist_ok=True)
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        target = destination / relative
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        elif not target.exists():
            shutil.copy2(path, target)
        elif target.read_bytes() != path.read_bytes() and not relative.parts[0].endswith(
            ".dist-info"
        ):
            raise BuildError(f"{relative} differs between the architectures")


def runtime_python() -> str | None:
    """The runtime's Python on this machine (``python3.13``), if it is there and works."""
    path = shutil.which(f"python{LAMBDA_PYTHON}")
    if path is None:
        return None
    check = [path, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]
    result = subprocess.run(check, capture_output=True, text=True, check=False)  # noqa: S603
    return path if result.returncode == 0 and result.stdout.strip() == LAMBDA_PYTHON else None


def compile_bytecode(artifacts: Path) -> None:
    """Compile every module with the runtime's Python, or say why not."""
    python = runtime_python()
    if python is None:
        print(
            f"NOTE: python{LAMBDA_PYTHON} is not on PATH: no bytecode compiled. The functions"
            " work, but compile their modules on every cold start (docs/deploy.md).",
            flush=True,
        )
        return
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
            str(artifacts),
            "-p",
            LAMBDA_TASK_ROOT,
            str(artifacts),
        ]
    )


def fingerprint() -> str:
    """A digest of everything the build reads from the checkout, and of this script."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for name in SOURCES:
        path = ROOT / name
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in files:
            if file.is_file() and "__pycache__" not in file.parts and ".egg-info" not in str(file):
                digest.update(str(file.relative_to(ROOT)).encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()[:16]


def build(artifacts: Path) -> None:
    """Fill ``artifacts`` with the function's code.

    `sam build` runs the Makefile once per function, and all of them run the same code: the
    first build is kept beside the functions' folders in SAM's build folder (which SAM empties
    at the start of every `sam build`, so dependencies are resolved afresh each time) and the
    others copy it.
    """
    parent = artifacts.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    shared = parent / f".sfn-callback-urls-{fingerprint()}"
    if not shared.is_dir():
        # Work beside the functions' folders: the last step is an atomic rename into place.
        with tempfile.TemporaryDirectory(
            prefix=".sfn-callback-urls-work-", dir=parent
        ) as temporary:
            work = Path(temporary)
            wheel = build_wheel(work)
            package = normalise(wheel.name.split("-")[0])
            merged = work / "merged"
            for arch in PLATFORMS:
                tree = work / arch
                install(wheel, arch, tree)
                remove_provided(tree, package)
                tag_abi3_modules(tree, arch)
                merge(tree, merged)
            compile_bytecode(merged)
            try:
                merged.rename(shared)
            except OSError:  # `sam build --parallel`: another function's build was first
                if not shared.is_dir():
                    raise
    else:
        print(f"(same code as the function built before: copied from {shared})", flush=True)
    shutil.copytree(shared, artifacts, dirs_exist_ok=True)


def main(argv: list[str]) -> int:
    """``build.py ARTIFACTS_DIR`` (the Makefile passes SAM's ``$ARTIFACTS_DIR``)."""
    if len(argv) != 1 or not argv[0]:
        print("usage: build.py ARTIFACTS_DIR  (run by `sam build` through the Makefile)")
        return 2
    try:
        build(Path(argv[0]))
    except BuildError as error:
        print(f"build.py: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or [os.environ.get("ARTIFACTS_DIR", "")]))
