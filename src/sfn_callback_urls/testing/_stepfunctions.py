"""A real approval workflow to test callback URLs against: an SQS queue and a state machine.

`ApprovalMachine` builds the approval state machine of the original blog post on any
boto3 clients (moto's in tests, a moto server for an offline demo, or real AWS):

```python
with ApprovalMachine(stepfunctions, sqs) as machine:
    execution_arn = machine.start(name="Ben")
    token, request = machine.wait_for_token()      # the "approval e-mail"
    complete(Completion.success(token, {"name_in_output": "Ben"}), client=stepfunctions)
    machine.wait_for_status(execution_arn)["status"]  # "SUCCEEDED"
    machine.confirmation()                          # {"name_in_output": "Ben"}
```

The machine:

- ``SendApprovalRequest``: ``sqs:sendMessage.waitForTaskToken`` puts
  ``{"token": <task token>, "name_in_input": <$.name>}`` on the request queue and waits; the
  task's result goes to ``$.output``; a failure with error ``"rejected"`` is caught, its
  ``{"Error", "Cause"}`` going to ``$.output`` too. With ``heartbeat_seconds`` the task must be
  sent a heartbeat at least that often.
- ``SendConfirmation``: ``sqs:sendMessage`` of ``$.output`` to the confirmation queue (the
  "confirmation e-mail"), then the end; the execution's output is its input plus ``output``.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from collections.abc import Collection
    from types import TracebackType

    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_stepfunctions import SFNClient
    from mypy_boto3_stepfunctions.type_defs import DescribeExecutionOutputTypeDef

__all__ = ["DEFAULT_ROLE_ARN", "TERMINAL_STATUSES", "ApprovalMachine"]

#: The execution role the state machine is created with (moto does not check it).
DEFAULT_ROLE_ARN: Final = "arn:aws:iam::123456789012:role/sfn-callback-urls-demo"

#: Execution statuses after which nothing more happens.
TERMINAL_STATUSES: Final = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})

# Short enough to keep tests fast, long enough not to spin.
_POLL_SECONDS: Final = 0.05

# With a heartbeat the task still needs a timeout larger than it; an hour is plenty for a test.
_MIN_TIMEOUT_SECONDS: Final = 3600


class ApprovalMachine:
    """The approval state machine and its two queues, created on the given clients.

    Args:
        stepfunctions: a boto3 ``stepfunctions`` client.
        sqs: a boto3 ``sqs`` client in the same account and region.
        role_arn: the state machine's execution role.
        heartbeat_seconds: if set, the waiting task's ``HeartbeatSeconds`` (it then times out
            with ``States.Timeout`` unless sent heartbeats at least that often).
        name: prefix of the state machine and queue names; unique by default.

    Attributes:
        state_machine_arn: the created state machine.
        request_queue_url: where approval requests (task token and name) arrive.
        confirmation_queue_url: where the outcome of each approval is sent.
        definition: the state machine's Amazon States Language definition.
    """

    def __init__(
        self,
        stepfunctions: SFNClient,
        sqs: SQSClient,
        *,
        role_arn: str = DEFAULT_ROLE_ARN,
        heartbeat_seconds: int | None = None,
        name: str | None = None,
    ) -> None:
        if heartbeat_seconds is not None and heartbeat_seconds < 1:
            raise ValueError("heartbeat_seconds must be a positive number of seconds.")
        self._sfn = stepfunctions
        self._sqs = sqs
        prefix = name or f"sfn-callback-urls-{uuid.uuid4().hex[:12]}"
        self.request_queue_url = sqs.create_queue(QueueName=f"{prefix}-requests")["QueueUrl"]
        self.confirmation_queue_url = sqs.create_queue(QueueName=f"{prefix}-confirmations")[
            "QueueUrl"
        ]
        self.definition = self._definition(heartbeat_seconds)
        self.state_machine_arn = stepfunctions.create_state_machine(
            name=prefix, definition=json.dumps(self.definition), roleArn=role_arn
        )["stateMachineArn"]

    def _definition(self, heartbeat_seconds: int | None) -> dict[str, Any]:
        """The blog post's approval workflow, in Amazon States Language."""
        request: dict[str, Any] = {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {
                "QueueUrl": self.request_queue_url,
                "MessageBody": {"token.$": "$$.Task.Token", "name_in_input.$": "$.name"},
            },
            "ResultPath": "$.output",
            "Catch": [
                {"ErrorEquals": ["rejected"], "ResultPath": "$.output", "Next": "SendConfirmation"}
            ],
            "Next": "SendConfirmation",
        }
        if heartbeat_seconds is not None:
            request["HeartbeatSeconds"] = heartbeat_seconds
            request["TimeoutSeconds"] = max(_MIN_TIMEOUT_SECONDS, 10 * heartbeat_seconds)
        return {
            "Comment": "Approval by callback URL (sfn-callback-urls test helper)",
            "StartAt": "SendApprovalRequest",
            "States": {
                "SendApprovalRequest": request,
                "SendConfirmation": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::sqs:sendMessage",
                    "Parameters": {
                        "QueueUrl": self.confirmation_queue_url,
                        "MessageBody.$": "$.output",
                    },
                    # Keep the state's input as the execution's output: {"name", "output"}.
                    "ResultPath": None,
                    "End": True,
                },
            },
        }

    def start(self, name: str = "Ben") -> str:
        """Start an execution asking ``name`` for approval; returns its ARN."""
        # An explicit execution name: moto names every unnamed execution "None", so a second
        # unnamed start fails with ExecutionAlreadyExists.
        return self._sfn.start_execution(
            stateMachineArn=self.state_machine_arn,
            name=f"approval-{uuid.uuid4().hex}",
            input=json.dumps({"name": name}),
        )["executionArn"]

    def wait_for_token(self, timeout: float = 10.0) -> tuple[str, dict[str, Any]]:
        """The next approval request: its task token and the whole message body.

        Raises:
            TimeoutError: no request arrived within ``timeout`` seconds.
        """
        body = self._receive(self.request_queue_url, timeout, "an approval request")
        return str(body["token"]), body

    def confirmation(self, timeout: float = 10.0) -> Any:
        """The next confirmation message: the approval's ``$.output``.

        That is a success's output, or the ``{"Error", "Cause"}`` of a caught rejection.

        Raises:
            TimeoutError: no confirmation arrived within ``timeout`` seconds.
        """
        return self._receive(self.confirmation_queue_url, timeout, "a confirmation")

    def wait_for_status(
        self,
        execution_arn: str,
        statuses: Collection[str] = TERMINAL_STATUSES,
        timeout: float = 10.0,
    ) -> DescribeExecutionOutputTypeDef:
        """Poll ``describe_execution`` until its status is one of ``statuses``; return it.

        Raises:
            TimeoutError: the status was still something else after ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            execution = self._sfn.describe_execution(executionArn=execution_arn)
            if execution["status"] in statuses:
                return execution
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    f"Execution still {execution['status']} after {timeout} s, "
                    f"expected one of {sorted(statuses)}."
                )
            time.sleep(min(_POLL_SECONDS, remaining))

    def stop_all(self) -> list[str]:
        """Stop every execution of the machine still running; returns their ARNs.

        An execution waiting for its token keeps a thread alive in moto: call this at the end
        of each test (the context manager does).
        """
        stopped = []
        paginator = self._sfn.get_paginator("list_executions")
        pages = paginator.paginate(stateMachineArn=self.state_machine_arn, statusFilter="RUNNING")
        running = [e["executionArn"] for page in pages for e in page["executions"]]
        for execution_arn in running:
            try:
                self._sfn.stop_execution(executionArn=execution_arn)
            except ClientError:
                continue  # it finished meanwhile
            stopped.append(execution_arn)
        return stopped

    def __enter__(self) -> ApprovalMachine:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop_all()

    def _receive(self, queue_url: str, timeout: float, what: str) -> Any:
        """Poll ``queue_url`` for one message, delete it and return its JSON body."""
        deadline = time.monotonic() + timeout
        while True:
            messages = self._sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=0
            ).get("Messages", [])
            if messages:
                message = messages[0]
                self._sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                return json.loads(message["Body"])
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"No {what} arrived within {timeout} s.")
            time.sleep(min(_POLL_SECONDS, remaining))
