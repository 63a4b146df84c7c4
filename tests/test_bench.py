"""``benchmarks/bench.py`` inside the suite: its rows run and check what they time; no timing.

The benchmark uses the public API only; these tests keep it working while modules move.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from helpers import import_file  # tests/ is on sys.path
from sfn_callback_urls import aws_lambda

BENCH_PY = Path(__file__).resolve().parent.parent / "benchmarks" / "bench.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    """``benchmarks/bench.py`` imported as a module (it is a script, not part of the package)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(BENCH_PY.parent))  # as when run: it imports results.py beside it
        return import_file(BENCH_PY, "sfn_callback_urls_bench")


@pytest.fixture
def lambda_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The variables the user rows set, restored afterwards, and a fresh app before and after."""
    monkeypatch.setenv("SFN_CALLBACK_URLS_KEY", "")
    monkeypatch.setenv(aws_lambda.ENV_BASE_URL, "")
    aws_lambda.reset_app()
    yield
    aws_lambda.reset_app()


@pytest.mark.usefixtures("lambda_environment")
def test_every_user_row_runs_and_checks_its_call(bench: ModuleType) -> None:
    """The user rows build (each checks its call's result once) and each runs again."""
    payload = bench.Payload.default()
    rows = bench.user_rows(payload)
    assert sorted(row.group for row in rows) == ["kept"] * 2 + ["user"] * 7
    for row in rows:
        row.func()
    kept = [row for row in rows if row.group == "kept"]
    assert all(row.max_ratio is None for row in kept)  # context, never a target
    mint = rows[0]
    assert mint.blob_chars is not None
    assert mint.url_chars is not None
    assert mint.blob_chars < mint.url_chars <= bench.MAX_URL


def test_floor_peer_and_inner_rows_open_what_they_seal(bench: ModuleType) -> None:
    """Each implementation's open row gives back the token its seal row sealed."""
    payload = bench.Payload.default()
    cases = [
        *bench.floor_case(payload),
        *bench.fernet_case(payload),
        *bench.itsdangerous_case(payload),
        *bench.inner_cases(payload),
    ]
    for case in cases:
        seal, opened = bench.case_rows(case, payload)  # checks the token round trip
        assert (seal.side, opened.side) == ("seal", "open")
        assert opened.func() == payload.token


def test_cold_children_run_and_report(bench: ModuleType) -> None:
    """Each cold-start child runs once and reports its times and the heavy modules it loaded."""
    key = bench.LocalKey.generate().to_string()
    env = {"BENCH_KEY": key, "BENCH_TOKEN": "AAAA", "BENCH_BASE": bench.BASE_URL}
    by_key = {kind.key: kind for kind in bench.COLD_KINDS}
    inside, wall, cpu, heavy = bench.run_child(by_key["boto3_import"], env)
    assert 0 < inside < wall
    assert cpu > 0
    assert heavy == ["boto3", "botocore"]
    inside, wall, cpu, heavy = bench.run_child(by_key["cold_mint"], env)
    assert 0 < inside < wall
    assert heavy == []


def test_cold_verdicts_come_from_one_summary(bench: ModuleType) -> None:
    """The targets, the cold table and the JSON summary say the same verdicts, in one wording."""

    def result(key: str, ms: float, heavy: list[str] | None = None) -> object:
        return bench.ColdResult(
            key=key,
            label=key,
            info=False,
            ms=ms,
            wall_ms=ms + 40,
            cpu_ms=ms,
            ms_runs=[ms],
            wall_ms_runs=[ms + 40],
            cpu_ms_runs=[ms],
            heavy_modules=heavy or [],
        )

    times = {"cold_mint": 150.0, "pydantic_aead_baseline": 50.0, "aws_lambda_import": 140.0}
    times |= {"boto3_import": 130.0, "basemodel_aead_baseline": 80.0}
    times |= {"one_model_aead_baseline": 110.0}
    cold = {key: result(key, ms) for key, ms in times.items()}
    cold["cold_mint"] = result("cold_mint", 150.0, ["boto3"])
    summary = bench.ColdSummary.of(cold)
    assert summary.cold_mint_over_baseline == 3.0
    assert summary.one_model_baseline_over_baseline == 2.2
    assert not summary.cold_mint_over_baseline_met  # 3x > 2x
    assert summary.aws_lambda_import_minus_boto3_met  # +10 ms <= +60 ms
    assert not summary.cold_mint_heavy_modules_met
    targets = bench.check_targets([], [], cold)
    assert [t.met for t in targets] == [False, False, True]
    assert [t.verdict for t in targets] == ["MISSED", "MISSED", "met"]
    table = bench.cold_table(cold, runs=1)
    assert "(target <= 2x): MISSED" in table
    assert "(target <= +60 ms): met" in table
    assert "boto3 (target: none): MISSED" in table
    assert bench.verdict(True, gating=False) == "met"
    assert bench.verdict(False, gating=False) == "open"


def test_warm_rows_are_the_median_of_fresh_processes(bench: ModuleType, tmp_path: Path) -> None:
    """Each warm row is timed in every process; its ratio is the median of theirs."""
    settings = bench.TimingSettings(repeat=1, target_time=0.001, cold_runs=1)
    rows = bench.measure_in_processes(3, settings, BENCH_PY)
    names = [row.name for row in rows]
    assert "Minter.mint(token, [approve]), per URL" in names
    assert len(names) == len(set(names))
    for row in rows:
        assert len(row.ratios_by_process) == 3
        assert row.ratio == sorted(row.ratios_by_process)[1]
        assert len(row.us_repeats) == 3  # one repeat in each process
        if row.max_ratio is not None:
            assert row.met == (row.ratio <= row.max_ratio)
    floors = [row for row in rows if row.group == "floor"]
    assert [row.ratios_by_process for row in floors] == [[1.0, 1.0, 1.0]] * 2
