"""The approval e-mail example's glue function (the blog post's, on sfn-callback-urls).

The state machine calls it twice:

- ``WaitForTokenState`` (``lambda:invoke.waitForTaskToken``): mint approve/reject URLs for the
  task token by invoking the create-URLs function, and e-mail them through SNS;
- ``SendConfirmation``: e-mail the outcome: the approval's output, or the rejection's cause.

Only boto3 is needed (it is in the Lambda runtime). Environment: ``CREATE_URLS_FUNCTION_NAME``
(the sfn-callback-urls stack's ``Function`` output), ``TOPIC_ARN`` (the SNS topic to e-mail),
and optionally ``URL_LIFETIME_HOURS`` (default 168, a week).
"""

from __future__ import annotations

import functools
import json
import os
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3

SUBJECT_REQUEST = "Step Functions example approval request"
SUBJECT_DONE = "Step Functions example complete"


@functools.cache
def lambda_client() -> Any:
    """The Lambda client (built on first use; tests replace this function)."""
    return boto3.client("lambda")


@functools.cache
def sns_client() -> Any:
    """The SNS client (built on first use; tests replace this function)."""
    return boto3.client("sns")


def create_urls_request(token: str, name: str, *, now: datetime | None = None) -> dict[str, Any]:
    """The blog post's create-URLs request: approve (success) or reject (failure)."""
    now = now or datetime.now(timezone.utc)
    lifetime = timedelta(hours=float(os.environ.get("URL_LIFETIME_HOURS", "168")))
    return {
        "token": token,
        "actions": [
            {"name": "approve", "type": "success", "output": {"name_in_output": name}},
            {
                "name": "reject",
                "type": "failure",
                "error": "rejected",
                "cause": f"{name} rejected it",
            },
        ],
        "expiration": (now + lifetime).isoformat(),
    }


def create_urls(request: dict[str, Any]) -> dict[str, str]:
    """Invoke the create-URLs function; its ``urls``, or an exception with its error."""
    response = lambda_client().invoke(
        FunctionName=os.environ["CREATE_URLS_FUNCTION_NAME"], Payload=json.dumps(request)
    )
    result = json.loads(response["Payload"].read())
    if "FunctionError" in response or "error" in result:
        # Fails the task: the state machine sees the error instead of waiting forever.
        raise RuntimeError(f"create-URLs failed: {result.get('error')}: {result.get('message')}")
    return dict(result["urls"])


def request_email(name: str, urls: dict[str, str]) -> str:
    """The approval request's text: one link per action."""
    return (
        f"Hello {name},\n\n"
        "Please approve or reject the task by opening one of these links:\n\n"
        f"Approve:\n{urls['approve']}\n\n"
        f"Reject:\n{urls['reject']}\n"
    )


def confirmation_email(output: dict[str, Any]) -> str:
    """The confirmation's text: the approval's output, or the rejection's cause."""
    if "Error" in output:
        return f"Hello,\n\nYour task was rejected: {output.get('Cause')}\n"
    return f"Hello {output['name_in_output']},\n\nYour task is complete.\n"


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The state machine's two calls, told apart by ``event["state"]``."""
    if event["state"] == "WaitForTokenState":
        name = event["name_in_input"]
        urls = create_urls(create_urls_request(event["token"], name))
        subject, body = SUBJECT_REQUEST, request_email(name, urls)
    elif event["state"] == "SendConfirmation":
        subject, body = SUBJECT_DONE, confirmation_email(event["output"])
    else:
        raise ValueError(f"Unknown state {event['state']!r}")
    sns_client().publish(TopicArn=os.environ["TOPIC_ARN"], Subject=subject, Message=body)
    return {}
