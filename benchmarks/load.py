"""A bounded loopback load test of the WSGI and ASGI apps, with exactly-once checks.

Run with ``nox -s load`` or ``python benchmarks/load.py`` (``--quick`` for a short run,
``--requests``/``--concurrency`` to size it, ``--moto`` for real moto executions).

For each server, in this process and on 127.0.0.1 with an ephemeral port:

- ``wsgi``: the WSGI app under ``demo.LocalServer`` (wsgiref, one thread per request;
  HTTP/1.0, so one connection per request);
- ``asgi``: the ASGI app under uvicorn (h11, keep-alive connections).

The client is asyncio with raw HTTP/1.1 over ``asyncio.open_connection`` (standard library
only): ``--concurrency`` workers, each with its own connection, share one queue of requests.
The traffic is mixed, in a seeded random order:

- ``valid``: a first click on an approve or reject URL; every one for its own task token,
  so each must complete its task exactly once (200);
- ``second``: a second click on a URL already answered, queued as soon as the first click's
  answer arrives (409 TaskAlreadyCompleted);
- ``race``: the approve and the reject URL of one token, queued together so two workers send
  them at the same moment: exactly one 200 and one 409, and the task completed as the 200 said;
- ``expired``: an authentic URL that expired an hour ago (400 ExpiredPayload);
- ``tampered``: one character of the blob changed (400 InvalidPayload), or the ``action``
  label swapped for the other action's (400 ActionMismatched).

Step Functions is a fake that behaves like it for this purpose: a task token completes once,
every later call for it answers ``TaskTimedOut`` (AWS's answer to a repeat), and every
accepted call is recorded per token under a lock. With ``--moto`` it is moto with real
executions of the approval state machine instead (slower; see ``docs/load.md`` for what moto
cannot show and how the run adapts).

The run stops by itself: a fixed number of requests, a timeout per request and one for the
whole run. It prints the machine, a Markdown table and every check; the exit status is 1 if a
check fails. Latencies are measured by the client, in the same process as the server, so they
include the client's own share of the CPU and the GIL: compare runs, not absolute numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import datetime as dt
import json
import logging
import os
import platform
import random
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from botocore.exceptions import ClientError

from sfn_callback_urls import (
    CallbackHandler,
    Codec,
    FailureAction,
    LocalKey,
    Minter,
    SuccessAction,
)
from sfn_callback_urls._demo import LocalServer
from sfn_callback_urls.adapters import make_asgi_app, make_wsgi_app

#: Requests per server by default, and with ``--quick``.
DEFAULT_REQUESTS = 3000
QUICK_REQUESTS = 300
#: Requests per server by default with ``--moto`` (each valid one is a moto execution).
DEFAULT_MOTO_REQUESTS = 600
DEFAULT_CONCURRENCY = 32
QUICK_CONCURRENCY = 16
#: Seconds one request may take before it counts as failed.
REQUEST_TIMEOUT = 15.0
#: Seconds a whole server run may take before it is abandoned (and fails).
RUN_TIMEOUT = 300.0
START_TIMEOUT = 10.0
#: Shares of the traffic (of requests; a race is two requests). The rest is ``valid``.
SHARES = {"second": 0.15, "race": 0.04, "expired": 0.10, "tampered": 0.10}
#: 684 characters of standard base64, the length of real task tokens.
TOKEN_BYTES = 513
PURPOSE = "load-test"
SERVERS = ("wsgi", "asgi")
URL_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


# --- Step Functions --------------------------------------------------------------------------


@dataclass(frozen=True)
class Completed:
    """One accepted completion: what the task was completed with."""

    type: str
    output: Any = None
    error: str | None = None
    cause: str | None = None


def task_gone(operation: str) -> ClientError:
    """AWS's answer to a call for a task that is over (a repeat, or a token it never issued)."""
    return ClientError(
        {
            "Error": {"Code": "TaskTimedOut", "Message": "Provided task does not exist anymore"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        },
        operation,
    )


class FakeStepFunctions:
    """The three ``SendTask*`` calls, as Step Functions answers them: a token completes once.

    Tokens must be issued first (`issue()`), as a waiting task issues them. Thread-safe: the
    check-and-complete of a token is one step under a lock, as it is one step in AWS.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: set[str] = set()
        self.completed: dict[str, list[Completed]] = {}
        self.refused: Counter[str] = Counter()

    def issue(self) -> str:
        token = base64.b64encode(os.urandom(TOKEN_BYTES)).decode("ascii")
        with self._lock:
            self._waiting.add(token)
        return token

    def _complete(self, operation: str, token: str, completed: Completed) -> dict[str, Any]:
        with self._lock:
            if token not in self._waiting:
                self.refused[token] += 1
                raise task_gone(operation)
            self._waiting.discard(token)
            self.completed.setdefault(token, []).append(completed)
        return {}

    def send_task_success(self, *, taskToken: str, output: str) -> dict[str, Any]:
        return self._complete(
            "SendTaskSuccess", taskToken, Completed("success", json.loads(output))
        )

    def send_task_failure(
        self,
        *,
        taskToken: str,
        error: str | None = None,
        cause: str | None = None,
    ) -> dict[str, Any]:
        return self._complete(
            "SendTaskFailure", taskToken, Completed("failure", None, error, cause)
        )

    def send_task_heartbeat(self, *, taskToken: str) -> dict[str, Any]:
        with self._lock:
            if taskToken not in self._waiting:
                raise task_gone("SendTaskHeartbeat")
        return {}


class RecordingStepFunctions:
    """A real (moto) ``stepfunctions`` client that records each accepted call, like the fake."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.Lock()
        self.completed: dict[str, list[Completed]] = {}
        self.refused: Counter[str] = Counter()

    def _call(self, method: str, token: str, completed: Completed, **kwargs: Any) -> Any:
        try:
            answer = getattr(self._client, method)(taskToken=token, **kwargs)
        except ClientError:
            with self._lock:
                self.refused[token] += 1
            raise
        with self._lock:
            self.completed.setdefault(token, []).append(completed)
        return answer

    def send_task_success(self, *, taskToken: str, output: str) -> Any:
        completed = Completed("success", json.loads(output))
        return self._call("send_task_success", taskToken, completed, output=output)

    def send_task_failure(self, *, taskToken: str, **details: Any) -> Any:
        completed = Completed("failure", None, details.get("error"), details.get("cause"))
        return self._call("send_task_failure", taskToken, completed, **details)

    def send_task_heartbeat(self, *, taskToken: str) -> Any:
        return self._client.send_task_heartbeat(taskToken=taskToken)


class MotoTasks:
    """Real tasks: executions of the approval machine in moto, their tokens read from SQS."""

    def __init__(self) -> None:
        import boto3
        from moto import mock_aws

        from sfn_callback_urls.testing import ApprovalMachine

        for name, value in (
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
        ):
            os.environ.setdefault(name, value)
        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        self._mock.start()
        self.sfn = boto3.client("stepfunctions", region_name="us-east-1")
        self.sqs = boto3.client("sqs", region_name="us-east-1")
        self.machine = ApprovalMachine(self.sfn, self.sqs)
        self.client = RecordingStepFunctions(self.sfn)
        self.arns: dict[str, str] = {}  # token -> execution ARN

    def issue_many(self, count: int) -> list[str]:
        """Start ``count`` executions and return their task tokens."""
        names = {self.machine.start(f"user{index}"): index for index in range(count)}
        by_name: dict[str, str] = {}
        deadline = time.monotonic() + 60
        while len(by_name) < count:
            if time.monotonic() > deadline:
                raise TimeoutError("moto did not hand out every task token within 60 s")
            messages = self.sqs.receive_message(
                QueueUrl=self.machine.request_queue_url, MaxNumberOfMessages=10
            ).get("Messages", [])
            for message in messages:
                body = json.loads(message["Body"])
                by_name[body["name_in_input"]] = body["token"]
                self.sqs.delete_message(
                    QueueUrl=self.machine.request_queue_url,
                    ReceiptHandle=message["ReceiptHandle"],
                )
            if not messages:
                time.sleep(0.02)
        tokens = []
        for arn, index in names.items():
            token = by_name[f"user{index}"]
            self.arns[token] = arn
            tokens.append(token)
        return tokens

    def wait_finished(self, tokens: Sequence[str]) -> dict[str, Any]:
        """Each token's execution once it has finished (``describe_execution``)."""
        return {
            token: self.machine.wait_for_status(self.arns[token], timeout=60) for token in tokens
        }

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.machine.stop_all()
        self._mock.stop()


# --- the traffic -----------------------------------------------------------------------------


@dataclass
class Job:
    """One request to send and what must come back."""

    kind: str
    target: str  # path and query
    status: int
    error: str | None = None  # the JSON body's "error", for error answers
    token: str | None = None
    transaction_id: str | None = None
    follow_up: Job | None = None  # sent once this one is answered
    race: int | None = None  # jobs of one race share this number


@dataclass
class Answer:
    """What one request got."""

    job: Job
    status: int  # 0: no HTTP answer (connection error or timeout)
    body: bytes
    seconds: float
    problem: str = ""


@dataclass
class Plan:
    """The jobs of one server run, and what the tasks must end up completed with."""

    jobs: list[Job]
    expected: dict[str, Completed]  # token -> completion, for valid and second-click tokens
    races: dict[int, tuple[str, dict[str, Completed]]]  # race -> token, completion by action
    untouched: list[str]  # tokens of expired and tampered URLs: never completed
    requests: int

    def counts(self) -> Counter[str]:
        kinds: Counter[str] = Counter()
        for job in self.jobs:
            kinds[job.kind] += 1
            if job.follow_up is not None:
                kinds[job.follow_up.kind] += 1
        return kinds


def actions_for(index: int) -> tuple[SuccessAction, FailureAction]:
    """The approve and reject actions of request ``index``, distinct for every request."""
    return (
        SuccessAction(name="approve", output={"request": index, "approved_by": f"user{index}"}),
        FailureAction(name="reject", error="rejected", cause=f"request {index} was rejected"),
    )


def expected_completion(action: SuccessAction | FailureAction) -> Completed:
    if isinstance(action, SuccessAction):
        return Completed("success", action.output)
    return Completed("failure", None, action.error, action.cause)


def target_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def tamper(url: str, rng: random.Random, *, swap_label: bool) -> str:
    """``url`` with one blob character changed, or with the other action's name as label."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    if swap_label:
        query["action"] = "reject" if query["action"] == "approve" else "approve"
    else:
        blob = query["data"]
        index = rng.randrange(len(blob))
        replacement = rng.choice(URL_SAFE.replace(blob[index], ""))
        query["data"] = blob[:index] + replacement + blob[index + 1 :]
    return f"{parts.path}?{urlencode(query)}"


def plan_traffic(
    requests: int,
    minter: Minter,
    issue: Callable[[int], list[str]],
    rng: random.Random,
    *,
    races: bool = True,
    late_second_clicks: bool = False,
) -> Plan:
    """Mint the URLs of ``requests`` requests and shuffle them into jobs.

    Args:
        issue: returns that many new task tokens (waiting tasks).
        races: include racing approve/reject pairs (moto cannot show them).
        late_second_clicks: second clicks only on approve URLs (moto accepts a repeated failure).
    """
    race_pairs = round(requests * SHARES["race"] / 2) if races else 0
    second = round(requests * SHARES["second"])
    expired = round(requests * SHARES["expired"])
    tampered = round(requests * SHARES["tampered"])
    valid = requests - 2 * race_pairs - second - expired - tampered
    if valid < second or valid < 1:
        raise ValueError(f"{requests} requests are too few for the traffic mix")
    tokens = iter(issue(valid + race_pairs + expired + tampered))
    now = dt.datetime.now(dt.timezone.utc)
    jobs: list[Job] = []
    expected: dict[str, Completed] = {}
    race_plan: dict[int, tuple[str, dict[str, Completed]]] = {}
    untouched: list[str] = []
    index = 0
    # Which valid URLs get a second click: every approve one first when only those may.
    order = sorted(range(valid), key=lambda i: (i % 2 if late_second_clicks else 0, i))
    clicked_twice = set(order[:second])
    for number in range(valid):
        index += 1
        token = next(tokens)
        approve, reject = actions_for(index)
        minted = minter.mint(token, [approve, reject], expires_in=dt.timedelta(days=7), now=now)
        action = approve if number % 2 == 0 else reject
        target = target_of(minted.urls[action.name])
        job = Job("valid", target, 200, token=token, transaction_id=minted.transaction_id)
        if number in clicked_twice:
            job.follow_up = Job("second", target, 409, "TaskAlreadyCompleted", token=token)
        expected[token] = expected_completion(action)
        jobs.append(job)
    for race in range(race_pairs):
        index += 1
        token = next(tokens)
        approve, reject = actions_for(index)
        minted = minter.mint(token, [approve, reject], expires_in=dt.timedelta(days=7), now=now)
        race_plan[race] = (
            token,
            {a.name: expected_completion(a) for a in (approve, reject)},
        )
        for action in (approve, reject):
            target = target_of(minted.urls[action.name])
            jobs.append(Job("race", target, 0, token=token, race=race))
    for number in range(expired):
        index += 1
        token = next(tokens)
        action = actions_for(index)[number % 2]
        minted = minter.mint(
            token, [action], expires_in=dt.timedelta(hours=1), now=now - dt.timedelta(hours=2)
        )
        jobs.append(Job("expired", target_of(minted.urls[action.name]), 400, "ExpiredPayload"))
        untouched.append(token)
    for number in range(tampered):
        index += 1
        token = next(tokens)
        approve, reject = actions_for(index)
        minted = minter.mint(token, [approve, reject], expires_in=dt.timedelta(days=7), now=now)
        swap = number % 4 == 3
        url = tamper(minted.urls[("approve", "reject")[number % 2]], rng, swap_label=swap)
        error = "ActionMismatched" if swap else "InvalidPayload"
        jobs.append(Job("tampered", url, 400, error))
        untouched.append(token)
    # Shuffle, keeping each race's two requests next to each other so they go out together.
    units: list[list[Job]] = []
    for job in jobs:
        if job.race is not None and units and units[-1][0].race == job.race:
            units[-1].append(job)
        else:
            units.append([job])
    rng.shuffle(units)
    return Plan(
        jobs=[job for unit in units for job in unit],
        expected=expected,
        races=race_plan,
        untouched=untouched,
        requests=requests,
    )


# --- the client ------------------------------------------------------------------------------


class Connection:
    """One HTTP/1.1 connection to 127.0.0.1, reopened when the server closes it."""

    def __init__(self, port: int) -> None:
        self._port = port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(self, target: str) -> tuple[int, bytes]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection("127.0.0.1", self._port)
        assert self._reader is not None
        self._writer.write(
            f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{self._port}\r\n"
            "Accept: application/json\r\nUser-Agent: sfn-callback-urls-load\r\n\r\n".encode("ascii")
        )
        await self._writer.drain()
        reader = self._reader
        status_line = (await reader.readline()).decode("latin-1")
        version, _, rest = status_line.partition(" ")
        if not version.startswith("HTTP/"):
            raise ConnectionError(f"no HTTP answer ({status_line.strip()!r})")
        status = int(rest.split(" ", 1)[0])
        headers: dict[str, str] = {}
        while True:
            line = (await reader.readline()).decode("latin-1")
            if line in ("\r\n", "\n", ""):
                break
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._chunked(reader)
        else:
            body = await reader.read()
            headers["connection"] = "close"
        keep = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
        if not keep:
            await self.close()
        return status, body

    @staticmethod
    async def _chunked(reader: asyncio.StreamReader) -> bytes:
        chunks = []
        while True:
            size = int((await reader.readline()).split(b";", 1)[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                # Trailers are not expected; the final CRLF was just read.
                return b"".join(chunks)
            chunks.append(chunk[:-2])

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def drive(port: int, plan: Plan, concurrency: int) -> tuple[list[Answer], float, bool]:
    """Send every job of ``plan`` with ``concurrency`` workers; returns answers, seconds, done."""
    queue: asyncio.Queue[Job] = asyncio.Queue()
    for job in plan.jobs:
        queue.put_nowait(job)
    answers: list[Answer] = []

    async def worker() -> None:
        connection = Connection(port)
        try:
            while True:
                job = await queue.get()
                started = time.perf_counter()
                try:
                    status, body = await asyncio.wait_for(
                        connection.request(job.target), REQUEST_TIMEOUT
                    )
                    answer = Answer(job, status, body, time.perf_counter() - started)
                except (
                    OSError,
                    asyncio.IncompleteReadError,
                    asyncio.TimeoutError,
                    ValueError,
                ) as error:
                    await connection.close()
                    seconds = time.perf_counter() - started
                    answer = Answer(job, 0, b"", seconds, type(error).__name__)
                answers.append(answer)
                if job.follow_up is not None:
                    queue.put_nowait(job.follow_up)  # before task_done: join() waits for it
                queue.task_done()
        finally:
            await connection.close()

    started = time.perf_counter()
    workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
    try:
        await asyncio.wait_for(queue.join(), RUN_TIMEOUT)
        done = True
    except asyncio.TimeoutError:  # an alias of TimeoutError from Python 3.11 on
        done = False
    elapsed = time.perf_counter() - started
    for task in workers:
        task.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    return answers, elapsed, done


# --- the servers -----------------------------------------------------------------------------


class CountingHandler(logging.Handler):
    """Counts the handler's log lines by level (and keeps them off the console)."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[record.levelname] += 1  # emit() runs under the handler's lock


def quiet_logger(name: str) -> tuple[logging.Logger, CountingHandler]:
    logger = logging.getLogger(f"sfn_callback_urls.load.{name}")
    logger.handlers.clear()
    logger.propagate = False
    logger.setLevel(logging.INFO)
    counting = CountingHandler()
    logger.addHandler(counting)
    return logger, counting


@contextlib.contextmanager
def serve_wsgi(handler: CallbackHandler, backlog: int | None = None) -> Iterator[int]:
    server = LocalServer(make_wsgi_app(handler))
    if backlog is not None:
        # LocalServer listens with socketserver's default backlog of 5: past it, Linux drops
        # connection attempts and the client retries a second later. Listening again on the
        # bound socket only changes the backlog (LocalServer offers no option for it).
        server._server.socket.listen(backlog)
    server.start()
    try:
        yield server.port
    finally:
        server.stop()


@contextlib.contextmanager
def serve_asgi(handler: CallbackHandler, backlog: int | None = None) -> Iterator[int]:
    import uvicorn

    config = uvicorn.Config(
        make_asgi_app(handler),
        host="127.0.0.1",
        port=0,
        lifespan="on",
        http="h11",
        ws="none",
        log_level="warning",
        access_log=False,
        backlog=2048 if backlog is None else backlog,  # uvicorn's default
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="load-uvicorn", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(START_TIMEOUT)


SERVE = {"wsgi": serve_wsgi, "asgi": serve_asgi}


# --- one run ---------------------------------------------------------------------------------


@dataclass
class Result:
    """The figures and the checks of one server run."""

    server: str
    requests: int
    concurrency: int
    seconds: float
    latencies: list[float]
    statuses: Counter[int]
    kinds: Counter[str]
    lost: int = 0
    duplicated: int = 0
    wrong: int = 0
    unexpected: int = 0
    failures: list[str] = field(default_factory=list)
    log_lines: Counter[str] = field(default_factory=Counter)

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile(self, p: int) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] if self.latencies else 0.0
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[p - 1]

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)


def error_code(body: bytes) -> str | None:
    try:
        return str(json.loads(body)["error"])
    except (ValueError, KeyError, TypeError):
        return None


def check(
    result: Result,
    plan: Plan,
    answers: list[Answer],
    completed: dict[str, list[Completed]],
    finished: bool,
) -> None:
    """Fill in the checks of ``result``; each failed one is a line in ``result.failures``."""
    fail = result.failures.append
    if not finished:
        fail(f"the run did not finish within {RUN_TIMEOUT:.0f} s")
    if len(answers) != plan.requests:
        fail(f"{len(answers)} answers for {plan.requests} planned requests")
    problems = Counter(answer.problem for answer in answers if answer.status == 0)
    for problem, count in problems.items():
        fail(f"{count} requests got no HTTP answer ({problem})")
    if result.server_errors:
        fail(f"{result.server_errors} answers were 5xx")
    by_race: dict[int, list[Answer]] = {}
    for answer in answers:
        job = answer.job
        if job.race is not None:
            by_race.setdefault(job.race, []).append(answer)
            continue
        if answer.status != job.status or (job.error and error_code(answer.body) != job.error):
            result.unexpected += 1
            if result.unexpected <= 5:
                fail(
                    f"{job.kind}: expected {job.status} {job.error or ''}, "
                    f"got {answer.status} {error_code(answer.body) or ''}".replace("  ", " ")
                )
        elif job.kind == "valid":
            body = json.loads(answer.body)
            if body.get("transaction_id") != job.transaction_id:
                result.wrong += 1
    # Each race: one 200 and one 409, and the task completed as the 200's action.
    winners: dict[str, Completed] = {}
    for race, (token, completions) in plan.races.items():
        pair = by_race.get(race, [])
        statuses = sorted(answer.status for answer in pair)
        if statuses != [200, 409]:
            result.unexpected += 1
            fail(f"race {race}: expected one 200 and one 409, got {statuses}")
            continue
        winner = next(answer for answer in pair if answer.status == 200)
        name = dict(parse_qsl(urlsplit(winner.job.target).query))["action"]
        winners[token] = completions[name]
    expected = {**plan.expected, **winners}
    for token, completion in expected.items():
        got = completed.get(token, [])
        if not got:
            result.lost += 1
        elif len(got) > 1:
            result.duplicated += 1
        elif got[0] != completion:
            result.wrong += 1
    untouched = sum(1 for token in plan.untouched if completed.get(token))
    strangers = set(completed) - set(expected) - set(plan.untouched)
    result.wrong += untouched + len(strangers)
    if result.lost:
        fail(f"{result.lost} valid URLs never completed their task (lost)")
    if result.duplicated:
        fail(f"{result.duplicated} tasks completed more than once (duplicated)")
    if result.wrong:
        fail(f"{result.wrong} tasks completed wrongly (other output, or must not have completed)")
    if result.unexpected > 5:
        fail(f"... {result.unexpected} answers in all with an unexpected status")
    logged = sum(result.log_lines.values())
    if logged != len(answers):
        fail(f"{logged} handler log lines for {len(answers)} requests (expected one each)")
    if result.log_lines.get("ERROR"):
        fail(f"{result.log_lines['ERROR']} handler log lines at ERROR")


def run_server(
    name: str,
    requests: int,
    concurrency: int,
    *,
    seed: int = 0,
    moto: bool = False,
    backlog: int | None = None,
) -> Result:
    """Start ``name``'s server, send the traffic, stop it and check everything."""
    rng = random.Random(seed)  # noqa: S311 - reproducible traffic, not a secret
    tasks = MotoTasks() if moto else None
    fake = FakeStepFunctions()
    client: Any = tasks.client if tasks is not None else fake
    logger, counting = quiet_logger(name)
    codec = Codec(LocalKey.generate(), purpose=PURPOSE)
    handler = CallbackHandler(codec, stepfunctions_client=client, logger=logger)
    try:
        with SERVE[name](handler, backlog) as port:
            minter = Minter(codec, base_url=f"http://127.0.0.1:{port}/callbacks")

            def issue(count: int) -> list[str]:
                return [fake.issue() for _ in range(count)]

            plan = plan_traffic(
                requests, minter, issue, rng, races=tasks is None, late_second_clicks=bool(tasks)
            )
            if tasks is not None:
                # Valid URLs re-minted for tokens of real executions; the invalid ones never
                # reach Step Functions, so their (fake) tokens are as good as any.
                valid_tokens = list(plan.expected)
                real = iter(tasks.issue_many(len(valid_tokens)))
                plan = retoken(plan, {token: next(real) for token in valid_tokens}, codec, minter)
            answers, seconds, finished = run_phases(port, plan, concurrency, tasks)
        completed = client.completed
        result = Result(
            server=name,
            requests=len(answers),
            concurrency=concurrency,
            seconds=seconds,
            latencies=[answer.seconds for answer in answers if answer.status],
            statuses=Counter(answer.status for answer in answers),
            kinds=plan.counts(),
            log_lines=counting.counts,
        )
        check(result, plan, answers, completed, finished)
        if tasks is not None:
            check_executions(result, plan, tasks)
        return result
    finally:
        if tasks is not None:
            tasks.close()


def run_phases(
    port: int, plan: Plan, concurrency: int, tasks: MotoTasks | None
) -> tuple[list[Answer], float, bool]:
    """Send the plan. With moto, second clicks wait until every execution has finished.

    moto accepts any call while an execution still runs, so a second click sent right after
    the first would be accepted there; AWS refuses it at once. So with moto, the second clicks
    are held back and sent as a second phase.
    """
    if tasks is None:
        return asyncio.run(drive(port, plan, concurrency))
    later = [job.follow_up for job in plan.jobs if job.follow_up is not None]
    first = Plan(
        jobs=[
            Job(j.kind, j.target, j.status, j.error, j.token, j.transaction_id, None, j.race)
            for j in plan.jobs
        ],
        expected=plan.expected,
        races=plan.races,
        untouched=plan.untouched,
        requests=plan.requests - len(later),
    )
    answers, seconds, finished = asyncio.run(drive(port, first, concurrency))
    tasks.wait_finished(list(plan.expected))
    second = Plan(later, {}, {}, [], len(later))
    more, more_seconds, more_finished = asyncio.run(drive(port, second, concurrency))
    return answers + more, seconds + more_seconds, finished and more_finished


def retoken(plan: Plan, tokens: dict[str, str], codec: Codec, minter: Minter) -> Plan:
    """``plan`` with the valid URLs re-minted for other tokens (moto's), same actions."""
    expected: dict[str, Completed] = {}
    jobs = []
    for job in plan.jobs:
        if job.kind != "valid":
            jobs.append(job)
            continue
        assert job.token is not None
        token = tokens[job.token]
        query = dict(parse_qsl(urlsplit(job.target).query))
        claims = codec.open(query["data"])
        minted = minter.mint(token, [claims.action], expires_in=dt.timedelta(days=7))
        target = target_of(minted.urls[claims.action.name])
        new = Job("valid", target, 200, token=token, transaction_id=minted.transaction_id)
        if job.follow_up is not None:
            new.follow_up = Job("second", target, 409, "TaskAlreadyCompleted", token=token)
        expected[token] = plan.expected[job.token]
        jobs.append(new)
    return Plan(jobs, expected, plan.races, plan.untouched, plan.requests)


def check_executions(result: Result, plan: Plan, tasks: MotoTasks) -> None:
    """With moto: every execution ended as its one completion said (moto drops the cause)."""
    executions = tasks.wait_finished(list(plan.expected))
    bad = 0
    for token, completion in plan.expected.items():
        execution = executions[token]
        output = json.loads(execution.get("output") or "null") or {}
        task_output = output.get("output")
        if completion.type == "success":
            ended_right = task_output == completion.output
        else:
            ended_right = isinstance(task_output, dict) and task_output.get("Error") == "rejected"
        if execution["status"] != "SUCCEEDED" or not ended_right:
            bad += 1
    if bad:
        result.wrong += bad
        result.failures.append(f"{bad} moto executions did not end as their completion said")


# --- the report ------------------------------------------------------------------------------


def machine() -> str:
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs (nproc), "
        f"Python {platform.python_version()}, {dt.date.today().isoformat()}"
    )


def table(results: Sequence[Result]) -> str:
    statuses = sorted({status for result in results for status in result.statuses})
    status_names = [str(status) if status else "no answer" for status in statuses]
    head = [
        "server",
        "requests",
        "conc.",
        "time (s)",
        "req/s",
        "p50 (ms)",
        "p95 (ms)",
        "p99 (ms)",
        *status_names,
        "5xx",
        "lost",
        "dup.",
        "wrong",
        "unexpected",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---:" for _ in head) + "|"]
    for r in results:
        row = [
            r.server,
            str(r.requests),
            str(r.concurrency),
            f"{r.seconds:.2f}",
            f"{r.throughput:.0f}",
            f"{r.percentile(50) * 1000:.1f}",
            f"{r.percentile(95) * 1000:.1f}",
            f"{r.percentile(99) * 1000:.1f}",
            *(str(r.statuses.get(status, 0)) for status in statuses),
            str(r.server_errors),
            str(r.lost),
            str(r.duplicated),
            str(r.wrong),
            str(r.unexpected),
        ]
        lines.append("| " + " | ".join(row) + " |")
    lines[1] = lines[1].replace("---:", ":---", 1)
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--requests", type=int, help="requests per server (default 3000)")
    parser.add_argument("--concurrency", type=int, help="client connections (default 32)")
    parser.add_argument(
        "--quick", action="store_true", help="a short run: 300 requests, concurrency 16"
    )
    parser.add_argument(
        "--moto", action="store_true", help="real moto executions instead of the fake (slower)"
    )
    parser.add_argument(
        "--servers", default=",".join(SERVERS), help="comma-separated: wsgi, asgi (default both)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the traffic's order")
    parser.add_argument(
        "--backlog",
        type=int,
        help="listen backlog of the servers (default: their own, 5 for wsgi, 2048 for asgi)",
    )
    args = parser.parse_args(argv)
    if args.requests is None:
        args.requests = (
            QUICK_REQUESTS
            if args.quick
            else DEFAULT_MOTO_REQUESTS
            if args.moto
            else DEFAULT_REQUESTS
        )
    if args.concurrency is None:
        args.concurrency = QUICK_CONCURRENCY if args.quick else DEFAULT_CONCURRENCY
    args.servers = [name.strip() for name in args.servers.split(",") if name.strip()]
    unknown = set(args.servers) - set(SERVERS)
    if unknown or not args.servers:
        parser.error(f"--servers takes {', '.join(SERVERS)}")
    if args.requests < 20 or not 1 <= args.concurrency <= 256:
        parser.error("--requests must be at least 20 and --concurrency 1 to 256")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"Machine: {machine()}")
    backend = (
        "moto (real executions)" if args.moto else "fake Step Functions (a token completes once)"
    )
    print(
        f"Traffic: {args.requests} requests per server, concurrency {args.concurrency}, "
        f"seed {args.seed}; listen backlog: {args.backlog or 'each server its own'}; "
        f"Step Functions: {backend}\n",
        flush=True,
    )
    results = []
    for name in args.servers:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        results.append(
            run_server(
                name,
                args.requests,
                args.concurrency,
                seed=args.seed,
                moto=args.moto,
                backlog=args.backlog,
            )
        )
    print(table(results))
    print()
    for result in results:
        mix = ", ".join(f"{count} {kind}" for kind, count in sorted(result.kinds.items()))
        print(f"{result.server}: {mix}")
    print()
    failed = False
    for result in results:
        if result.failures:
            failed = True
            for failure in result.failures:
                print(f"FAIL {result.server}: {failure}")
        else:
            print(
                f"ok   {result.server}: every valid URL completed its task exactly once, as "
                "minted; every invalid one rejected with its status; no 5xx"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
