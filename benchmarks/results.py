"""What bench.py and figures.py share: the benchmark's token, a run's results and its tables.

bench.py measures and fills these in; figures.py reads them back from the run's JSON to print
the same tables into the docs. Neither imports the other for them.
"""

from __future__ import annotations

import base64
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

#: Cold mint at most this many times the pydantic + AEAD + encrypt-once interpreter.
MAX_COLD_MINT_RATIO = 2.0
#: ``import sfn_callback_urls.aws_lambda`` at most this many ms more than ``import boto3``.
MAX_AWS_LAMBDA_IMPORT_OVER_BOTO3_MS = 60.0
#: Modules a cold mint must not load (they load on first use: POST actions, KMS, complete()).
HEAVY_MODULES = ("boto3", "botocore", "jsonschema", "jsonpath_ng")

Side = Literal["seal", "open"]


# --- the payload's token -------------------------------------------------------------------


def make_task_token() -> str:
    """A task token of the real shape: standard base64 of 512 bytes (684 characters).

    Real tokens start with ``AAAAKgAAAAIAAAAAAAAAA``; the rest is deterministic random bytes
    (incompressible, like the real thing).
    """
    rng = random.Random(0)  # noqa: S311 - deterministic test data, not a secret
    raw = bytes.fromhex("0000002a000000020000000000000001") + rng.randbytes(496)
    token = base64.b64encode(raw).decode("ascii")
    assert len(token) == 684
    assert token.startswith("AAAAKgAAAAIAAAAAAAAAA")
    return token


# --- results -------------------------------------------------------------------------------


@dataclass
class RowResult:
    name: str
    group: str
    side: Side
    description: str
    #: Time per call (per URL for rows minting several), minimum over the repeats.
    us: float
    #: The same, median over the repeats.
    us_median: float
    #: Every repeat, per call.
    us_repeats: list[float]
    calls_per_repeat: int
    per_call: int
    ratio: float = math.nan
    ratio_median: float = math.nan
    max_ratio: float | None = None
    met: bool | None = None
    blob_chars: int | None = None
    url_chars: int | None = None
    aws_blob_chars: int | None = None
    kms_calls_per_1000: int | None = None
    kms_calls_computed: bool = False
    #: The ratio measured in each warm process (see `measure_in_processes`), in order.
    ratios_by_process: list[float] = field(default_factory=list)


@dataclass
class ColdResult:
    key: str
    label: str
    info: bool
    #: Median over the runs of the time measured inside the child, ms.
    ms: float
    #: Median over the runs of the child process's wall time (start to exit), ms.
    wall_ms: float
    #: Median over the runs of the CPU time of the same work inside the child, ms.
    cpu_ms: float
    ms_runs: list[float]
    wall_ms_runs: list[float]
    cpu_ms_runs: list[float]
    #: Heavy modules in sys.modules at the end of the work (every run).
    heavy_modules: list[str]


def verdict(met: bool, *, gating: bool = True) -> str:
    """How a target reads wherever it is printed (tables, target list, the docs' results).

    A target is ``met`` or ``MISSED``; a goal (not gating) is ``met`` or still ``open``.
    """
    if met:
        return "met"
    return "MISSED" if gating else "open"


@dataclass(frozen=True)
class ColdSummary:
    """The cold-start comparisons and their verdicts, computed once from the cold rows.

    The targets, the cold table and the JSON all read them from here.
    """

    #: (a)/(c): cold mint over the pydantic + AEAD baseline, time in the child; CPU; wall.
    cold_mint_over_baseline: float
    cold_mint_over_baseline_cpu: float
    cold_mint_over_baseline_wall: float
    cold_mint_over_baseline_met: bool
    #: (a)/(c'): the same against the baseline that loads pydantic's BaseModel (info).
    cold_mint_over_basemodel_baseline: float
    #: (c'')/(c): what one pydantic model costs a process, as a multiple of the target's
    #: baseline (info: the cold mint must build the action model it mints).
    one_model_baseline_over_baseline: float
    #: (b) - (d): import sfn_callback_urls.aws_lambda minus import boto3, ms; CPU; wall.
    aws_lambda_import_minus_boto3_ms: float
    aws_lambda_import_minus_boto3_cpu_ms: float
    aws_lambda_import_minus_boto3_wall_ms: float
    aws_lambda_import_minus_boto3_met: bool
    #: Heavy modules the cold mint loaded (target: none).
    cold_mint_heavy_modules: list[str]
    cold_mint_heavy_modules_met: bool

    @classmethod
    def of(cls, cold: dict[str, ColdResult]) -> ColdSummary:
        a, b = cold["cold_mint"], cold["aws_lambda_import"]
        c, d = cold["pydantic_aead_baseline"], cold["boto3_import"]
        return cls(
            cold_mint_over_baseline=a.ms / c.ms,
            cold_mint_over_baseline_cpu=a.cpu_ms / c.cpu_ms,
            cold_mint_over_baseline_wall=a.wall_ms / c.wall_ms,
            cold_mint_over_baseline_met=a.ms / c.ms <= MAX_COLD_MINT_RATIO,
            cold_mint_over_basemodel_baseline=a.ms / cold["basemodel_aead_baseline"].ms,
            one_model_baseline_over_baseline=cold["one_model_aead_baseline"].ms / c.ms,
            aws_lambda_import_minus_boto3_ms=b.ms - d.ms,
            aws_lambda_import_minus_boto3_cpu_ms=b.cpu_ms - d.cpu_ms,
            aws_lambda_import_minus_boto3_wall_ms=b.wall_ms - d.wall_ms,
            aws_lambda_import_minus_boto3_met=b.ms - d.ms <= MAX_AWS_LAMBDA_IMPORT_OVER_BOTO3_MS,
            cold_mint_heavy_modules=list(a.heavy_modules),
            cold_mint_heavy_modules_met=not a.heavy_modules,
        )


# --- tables --------------------------------------------------------------------------------


def _fmt_us(value: float) -> str:
    return f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"


def _fmt_kms(r: RowResult) -> str:
    if r.kms_calls_per_1000 is None:
        return "-"
    return f"{r.kms_calls_per_1000:,}" + ("¹" if r.kms_calls_computed else "")


def markdown_table(results: Sequence[RowResult]) -> str:
    lines = [
        "| row | group | µs per call | vs floor | target | | blob chars | approve URL chars "
        "| KMS calls / 1,000 |",
        "|---|---|--:|--:|--:|---|--:|--:|--:|",
    ]
    for r in results:
        target = "-" if r.max_ratio is None else f"<= {r.max_ratio:g}x"
        status = "" if r.met is None else verdict(r.met)
        blob = "-" if r.blob_chars is None else f"{r.blob_chars:,}"
        if r.aws_blob_chars is not None:
            blob += f" (AWS ~{r.aws_blob_chars:,})"
        url = "-" if r.url_chars is None else f"{r.url_chars:,}"
        lines.append(
            f"| {r.name} | {r.group} {r.side} | {_fmt_us(r.us)} | {r.ratio:.2f}x | {target} "
            f"| {status} | {blob} | {url} | {_fmt_kms(r)} |"
        )
    return "\n".join(lines)


def cold_table(cold: dict[str, ColdResult], runs: int) -> str:
    lines = [
        f"| cold start (median of {runs} fresh interpreters) | in the child, ms "
        "| CPU in the child, ms | process wall, ms | loaded of " + ", ".join(HEAVY_MODULES) + " |",
        "|---|--:|--:|--:|---|",
    ]
    for c in cold.values():
        lines.append(
            f"| {c.label} | {c.ms:,.1f} | {c.cpu_ms:,.1f} | {c.wall_ms:,.1f} "
            f"| {', '.join(c.heavy_modules) or 'none'} |"
        )
    s = ColdSummary.of(cold)
    lines += [
        "",
        f"(a)/(c) = {s.cold_mint_over_baseline:.2f}x in the child "
        f"({s.cold_mint_over_baseline_cpu:.2f}x CPU), "
        f"{s.cold_mint_over_baseline_wall:.2f}x process wall "
        f"(target <= {MAX_COLD_MINT_RATIO:g}x): {verdict(s.cold_mint_over_baseline_met)}",
        f"(b) - (d) = {s.aws_lambda_import_minus_boto3_ms:+.1f} ms in the child "
        f"({s.aws_lambda_import_minus_boto3_cpu_ms:+.1f} ms CPU), "
        f"{s.aws_lambda_import_minus_boto3_wall_ms:+.1f} ms process wall "
        f"(target <= +{MAX_AWS_LAMBDA_IMPORT_OVER_BOTO3_MS:g} ms): "
        f"{verdict(s.aws_lambda_import_minus_boto3_met)}",
        f"(a)/(c') = {s.cold_mint_over_basemodel_baseline:.2f}x in the child, against "
        "a baseline that also builds pydantic's BaseModel (a process that uses pydantic models "
        "at all; the target's (c) imports pydantic lazily, so it never loads BaseModel)",
        f"(c'')/(c) = {s.one_model_baseline_over_baseline:.2f}x: the target's baseline plus one "
        "one-field pydantic model, defined and validated (a cold mint builds the model of the "
        "action it mints)",
        "cold mint child's sys.modules holds: "
        + (", ".join(s.cold_mint_heavy_modules) or "none of them")
        + f" (target: none): {verdict(s.cold_mint_heavy_modules_met)}",
    ]
    return "\n".join(lines)
