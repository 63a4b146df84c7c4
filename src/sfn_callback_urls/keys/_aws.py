"""AWS plumbing: the one botocore session, lazy clients, and botocore errors as ours.

botocore is imported on first use only (a client is built, or an AWS call failed), and boto3
only when a caller hands us a ``boto3.Session``, so importing the key backends costs nothing in
a process that never talks to AWS.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
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
    from botocore.session import Session as BotocoreSession
    from mypy_boto3_kms import KMSClient

__all__ = [
    "ENCRYPTION_CONTEXT_KEY",
    "INVALID_CIPHERTEXT_CODES",
    "KmsKey",
    "LazyKmsClient",
    "aws_error_code",
    "close_connections",
    "default_session",
    "error_code",
    "is_aws_error",
    "key_unavailable",
    "make_client",
    "reset_default_session",
]

#: The encryption context key under which the codec's purpose is bound into every KMS call that
#: takes an encryption context. IAM policies can restrict it with the condition key
#: ``kms:EncryptionContext:sfn-callback-urls:purpose``.
ENCRYPTION_CONTEXT_KEY = "sfn-callback-urls:purpose"

#: KMS answers these when a ciphertext cannot be valid for the key and context we asked for: the
#: caller sent a bad blob (HTTP 400). Everything else (AccessDenied included) is our problem.
INVALID_CIPHERTEXT_CODES = frozenset({"InvalidCiphertextException", "IncorrectKeyException"})

_default_session: BotocoreSession | None = None
_default_session_lock = threading.Lock()
# Every client make_client() built, for close_connections() (weak: a client may go away).
_clients: weakref.WeakSet[Any] = weakref.WeakSet()


def default_session() -> BotocoreSession:
    """The process's one botocore session, built on first use, shared by every client we build.

    botocore's own session, not ``boto3.Session()``: boto3 adds nothing to the KMS, Step
    Functions and SSM clients but its import (with s3transfer and multiprocessing, through its
    customisations). One session per process: each session loads the service models and
    resolves credentials again, so a second session per client costs a cold start ~60 ms.
    """
    global _default_session  # a lazily built, lock-guarded process singleton
    session = _default_session
    if session is None:
        with _default_session_lock:
            if _default_session is None:
                _default_session = _new_session()
            session = _default_session
    return session


#: The services the library builds clients for (make_client's ``service``).
SERVICES = ("kms", "ssm", "stepfunctions")


def _new_session() -> BotocoreSession:
    """A botocore session whose data loader knows which services we use.

    botocore's loader answers "is there such a service?" by listing every service folder it
    ships (~400, several files each), once for the service model and once for the endpoint
    rules of the first client: two walks of botocore's data on every cold start, for an answer
    known in advance. Everything else (paths, ``AWS_DATA_PATH``, the files) is botocore's.
    """
    from botocore.loaders import Loader
    from botocore.session import get_session

    class KnownServicesLoader(Loader):
        def list_available_services(self, type_name: str) -> list[str]:
            return sorted(SERVICES)

    session = get_session()
    # As botocore's own create_loader() reads AWS_DATA_PATH (the data_path setting).
    paths = session.get_config_variable("data_path")
    extra = (
        [os.path.expanduser(os.path.expandvars(p)) for p in paths.split(os.pathsep)]
        if paths
        else []
    )
    session.register_component("data_loader", KnownServicesLoader(extra_search_paths=extra))
    return session


def reset_default_session() -> None:
    """Forget the process's session, so the next client gets a new one (tests; credentials).

    Clients already built keep theirs.
    """
    global _default_session
    with _default_session_lock:
        _default_session = None


def make_client(
    service: Literal["kms", "ssm", "stepfunctions"],
    session: Session | None = None,
    *,
    max_attempts: int | None = None,
    config: Config | None = None,
) -> Any:
    """A client with standard retries; region and endpoint come from AWS configuration.

    Built from ``session`` (a user's ``boto3.Session``) when given, else from the process's
    `default_session()`. The region is the session's (``AWS_DEFAULT_REGION``, the config
    file), else ``AWS_REGION``, which other AWS SDKs and Lambda set and botocore alone does not
    read. Its connect and read timeouts are short (`client_config()`), ``config`` is merged
    over them, and the client obeys a click's deadline (`watch()`).

    Args:
        service: the AWS service the client calls.
        session: a user's ``boto3.Session`` (default: the process's botocore session).
        max_attempts: attempts in all under botocore's standard retry mode.
        config: botocore client configuration (timeouts, retries, ...), merged over ours: its
            settings win.

    Raises:
        ConfigurationError: botocore cannot build the client (e.g. no region anywhere).
    """
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    retries: dict[str, Any] = {"mode": "standard"}
    if max_attempts is not None:
        retries["max_attempts"] = max_attempts
    merged = client_config().merge(Config(retries=retries))  # type: ignore[arg-type]
    if config is not None:
        merged = merged.merge(config)
    client: Any
    try:
        if session is not None:
            region = session.region_name or default_region()
            client = watch(session.client(service, config=merged, region_name=region))
        else:
            shared = default_session()
            region = shared.get_config_variable("region") or default_region()
            client = watch(shared.create_client(service, config=merged, region_name=region))
    except BotoCoreError as error:
        raise ConfigurationError(
            f"Cannot create an AWS {service.upper()} client ({type(error).__name__}); "
            "check the AWS region and credentials configuration."
        ) from error
    _clients.add(client)
    return client


def close_connections() -> None:
    """Close the open connections of every client `make_client()` built; they reconnect.

    Before a snapshot (SnapStart): a restored environment must not reuse a connection opened
    before it (the other end is long gone). The clients stay usable: the next call opens a
    new connection.
    """
    for client in list(_clients):
        # botocore keeps its connection pools on the endpoint's HTTP session; close() empties
        # them, and they are created again on the next request.
        session = getattr(getattr(client, "_endpoint", None), "http_session", None)
        close = getattr(session, "close", None)
        if close is not None:
            close()


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
        session: a boto3 session for that client (default: the process's botocore
            session, shared by all our clients).
        wire_id, max_age, max_uses, cache_size, clock: see `CachedKeyBackend`.
    """

    __slots__ = ("_kms",)
    #: The KMS operations the backend calls (their models are loaded by `prepare()`).
    _OPERATIONS: tuple[str, ...] = ()

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

    def prepare(self) -> None:
        """Build the client and describe the key now (``DescribeKey``), not on first use.

        For a pre-initialised environment (SnapStart, provisioned concurrency): the client's
        service model, credentials, endpoint and signer are then ready, and a missing key or
        permission shows at init. No data key is fetched: a snapshot must not hold one.

        Raises:
            KeyUnavailable: ``DescribeKey`` failed (the error's code says why).
        """
        try:
            self.client.describe_key(KeyId=self._key_id)
        except Exception as error:
            if is_aws_error(error):
                raise key_unavailable("DescribeKey", error) from None
            raise
        meta = getattr(self.client, "meta", None)  # a botocore client (fakes have none)
        if meta is not None:  # the models of the calls this key makes, loaded now
            for operation in self._OPERATIONS:
                model = meta.service_model.operation_model(operation)
                (model.input_shape, model.output_shape)  # noqa: B018 - parsed on first access

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._key_id!r}, wire_id={self._wire_id.hex()!r})"
