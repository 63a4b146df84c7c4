"""The benchmark's peer: approval links written by hand, boto3 + Fernet, the key wrapped by KMS."""

import base64
import json
import os
import time
import uuid

_fernet = None


def fernet():
    """The Fernet key, unwrapped by KMS on first use."""
    global _fernet
    if _fernet is None:
        import boto3
        from cryptography.fernet import Fernet

        wrapped = base64.b64decode(os.environ["WRAPPED_KEY"])
        key = boto3.client("kms").decrypt(CiphertextBlob=wrapped)["Plaintext"]
        _fernet = Fernet(base64.urlsafe_b64encode(key))
    return _fernet


def create_urls(event, context):
    """Direct invocation: ``{"token", "actions"}`` -> ``{"transaction_id", "urls"}``."""
    tid, exp = str(uuid.uuid4()), int(time.time()) + 7 * 86400
    urls = {}
    for action in event["actions"]:
        claims = {"token": event["token"], "action": action, "tid": tid, "exp": exp}
        data = fernet().encrypt(json.dumps(claims).encode()).decode()
        urls[action["name"]] = f"{os.environ['BASE_URL']}/respond?data={data}"
    return {"transaction_id": tid, "urls": urls}


def callback(event, context):
    """API Gateway GET /respond?data=...: complete the task, answer JSON."""
    import boto3

    claims = json.loads(fernet().decrypt(event["queryStringParameters"]["data"].encode()))
    if claims["exp"] < time.time():
        return {"statusCode": 410, "body": "expired"}
    action, sfn = claims["action"], boto3.client("stepfunctions")
    if action["type"] == "success":
        sfn.send_task_success(taskToken=claims["token"], output=json.dumps(action["output"]))
    else:
        sfn.send_task_failure(taskToken=claims["token"], error=action["error"])
    body = {"transaction_id": claims["tid"], "action": {k: action[k] for k in ("name", "type")}}
    return {"statusCode": 200, "body": json.dumps(body)}
