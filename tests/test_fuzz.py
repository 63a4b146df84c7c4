"""Short runs of the atheris fuzz targets (fuzz/) against their seed corpora.

The long runs are ``nox -s fuzz``; here each target runs a few thousand inputs, enough to
replay every seed (past findings included) and take some mutations, in about 5 s each.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FUZZ_DIR = Path(__file__).resolve().parent.parent / "fuzz"
#: Every fuzz/fuzz_*.py script (as `nox -s fuzz` finds them).
TARGETS = sorted(path.stem for path in FUZZ_DIR.glob("fuzz_*.py"))

needs_atheris = pytest.mark.skipif(
    importlib.util.find_spec("atheris") is None,
    reason="atheris is not installed (pip install 'sfn-callback-urls[fuzz]'; Linux only)",
)


def test_every_target_has_a_seed_corpus() -> None:
    """The fuzz folder has targets, and each fuzz_*.py has its seed corpus folder."""
    assert TARGETS
    missing = [target for target in TARGETS if not (FUZZ_DIR / "corpus" / target).is_dir()]
    assert not missing, f"no fuzz/corpus/<target>/ for {missing}"


@needs_atheris
@pytest.mark.parametrize("target", TARGETS)
def test_target_survives_a_short_run(target: str, tmp_path: Path) -> None:
    """The target replays its seed corpus and 3,000 mutations without a single finding."""
    corpus = tmp_path / "corpus"
    shutil.copytree(FUZZ_DIR / "corpus" / target, corpus)  # the repository's stays unchanged
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    result = subprocess.run(  # noqa: S603 - our own script, run by this interpreter
        [
            sys.executable,
            str(FUZZ_DIR / f"{target}.py"),
            str(corpus),
            "-runs=3000",
            "-max_total_time=20",
            "-rss_limit_mb=1024",
            "-timeout=10",
            "-seed=1",
            f"-artifact_prefix={artifacts}/",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )
    found = sorted(path.name for path in artifacts.iterdir())
    lines = (result.stdout + result.stderr).splitlines()
    tail = "\n".join([line for line in lines if "Instrumenting" not in line][-40:])
    assert result.returncode == 0, f"{target} exited {result.returncode}:\n{tail}"
    assert not found, f"{target} wrote {found}:\n{tail}"
