"""AWS plumbing shared by the KMS backends: a lazy client, and botocore errors as ours.

boto3 and botocore are imported on first use only (a client is built, or an AWS call failed),
so importing the key backends costs nothing in a process that never talks to AWS.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from .._deadline import DeadlineExceeded, client_config, watch
from .._http_url import default_region
from ..errors import ConfigurationError, KeyUnavailable
from ._cached import CachedKeyBackend

if TYPE_CHECKING:
    from boto3.session import Session
    from botocore.config import Config
    from mypy_boto3_kms import KMSClient

__all__ = [
    "ENCRYPTION_CONTEXT_KEY",
    "INVALID_CIPHERTEXT_CODES",
    "KmsKey",
    "LazyKmsClient",
    "aws_error_code",
    "error_code",
    "is_aws_error",
    "key_unavailable",
    "make_client",
]

#: The encryption context key under which the codec's purpose is bound into every KMS call that
#: takes an encryption context. IAM policies can restrict it with the condition key
#: ``kms:EncryptionContext:sfn-callback-urls:purpose``.
ENCRYPTION_CONTEXT_KEY = "sfn-callback-urls:purpose"

#: KMS answers these when a ciphertext cannot be valid for the key and context we asked for: the
#: caller sent a bad blob (HTTP 400). Everything else (AccessDenied included) is our problem.
INVALID_CIPHERTEXT_CODES = frozenset({"InvalidCiphertextException", "IncorrectKeyException"})


def make_client(
    service: Literal["kms", "ssm", "stepfunctions"],
    session: Session | None,
    *,
    max_attempts: int | None = None,
    config: Config | None = None,
) -> Any:
    """A boto3 client with standard retries; region and endpoint come from AWS configuration.

    The region is the session's (``AWS_DEFAULT_REGION``, the config file), else ``AWS_REGION``,
    which other AWS SDKs and Lambda set and botocore alone does not read. Its connect and read
    timeouts are short (`client_config()`), ``config`` is merged over them, and the client obeys
    a click's deadline (`watch()`).

    Raises:
        ConfigurationError: botocore cannot build the client (e.g. no region anywhere).
    """
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    retries: dict[str, Any] = {"mode": "standard"}
    if max_attempts is not None:
        retries["max_attempts"] = max_attempts
    merged = client_config().merge(Config(retries=retries))  # type: ignore[arg-type]
    if config is not None:
        merged = merged.merge(config)
    try:
        session = session or boto3.Session()
        region = session.region_name or default_region()
        return watch(session.client(service, config=merged, region_name=region))
    except BotoCoreError as error:
        raise ConfigurationError(
            f"Cannot create an AWS {service.upper()} client ({type(error).__name__}); "
            "check the AWS region and credentials configuration."
        ) from error


class LazyKmsClient:
    """The KMS client a caller gave, or one built from ``session`` on first use, once."""

    __slots__ = ("_client", "_lock", "_session")

    def __init__(self, client: KMSClient | None, session: Session | None) -> None:
        self._client = None if client is None else watch(client)
        self._session = session
        self._lock = threading.Lock()

    def get(self) -> KMSClient:
        """The client (built now if this is the first call, even under concurrent calls)."""
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    self._client = make_client("kms", self._session)
                client = self._client
        return client


def is_aws_error(error: BaseException) -> bool:
    """Whether ``error`` is an AWS call's failure: botocore's, or a click's deadline reached."""
    if isinstance(error, DeadlineExceeded):
        return True
    from botocore.exceptions import BotoCoreError, ClientError

    return isinstance(error, (ClientError, BotoCoreError))


def aws_error_code(error: BaseException | None) -> str | None:
    """The AWS error code of an error answer (a ``ClientError``, or its like), else ``None``."""
    response = getattr(error, "response", None)
    if not isinstance(response, Mapping):
        return None
    code = (response.get("Error") or {}).get("Code")
    return str(code) if code else None


def error_code(error: BaseException) -> str:
    """The AWS error code of an error answer, else the exception's class name."""
    return aws_error_code(error) or type(error).__name__


def key_unavailable(
    operation: str, error: BaseException, *, subject: str = "The KMS key"
) -> KeyUnavailable:
    """Our error for a failed KMS (or SSM) call: the operation and code, nothing else.

    Never the key id, the ciphertext or key material: the message may be shown to whoever
    clicked the link. The original error (with AWS's own message) stays on the exception.
    """
    if isinstance(error, DeadlineExceeded):  # the click's budget ran out: worth a later try
        return KeyUnavailable(
            f"{subject} did not answer in time ({operation}); try again later.",
            aws_code=error.last_error,
            original_error=error,
        )
    code = error_code(error)
    return KeyUnavailable(
        f"{subject} is unavailable: {operation} failed with {code}.",
        aws_code=code,
        original_error=error,
    )


class KmsKey(CachedKeyBackend):
    """What both KMS backends share: a `CachedKeyBackend` with a KMS client.

    Args:
        key_id: the KMS key id, ARN or alias.
        client: a boto3 KMS client; by default one is built on first use from ``session``.
        session: a boto3 session for that client (default: ``boto3.Session()``).
        wire_id, max_age, max_uses, cache_size, clock: see `CachedKeyBackend`.
    """

    __slots__ = ("_kms",)

    def __init__(
        self,
        key_id: str,
        *,
        client: KMSClient | None = None,
        session: Session | None = None,
        wire_id: bytes | None = None,
        max_age: timedelta = timedelta(minutes=5),
        max_uses: int = 100_000,
        cache_size: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(
            key_id,
            wire_id=wire_id,
            max_age=max_age,
            max_uses=max_uses,
            cache_size=cache_size,
            clock=clock,
        )
        self._kms = LazyKmsClient(client, session)

    @property
    def kms_key_id(self) -> str:
        """The KMS key id, ARN or alias this backend calls KMS with."""
        return self._key_id

    @property
    def client(self) -> KMSClient:
        """The KMS client, created on first use when none was given."""
        return self._kms.get()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._key_id!r}, wire_id={self._wire_id.hex()!r})"
