"""The examples: both SAM templates pass cfn-lint, and the approval e-mail's glue code works."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from helpers import APP_BASE_URL, import_file  # tests/ is on sys.path
from sfn_callback_urls import (
    Codec,
    KmsEnvelopeKey,
    Minter,
    SuccessAction,
    open_callback,
)
from sfn_callback_urls._config import ENV_KEY
from sfn_callback_urls._handler import CallbackRequest
from sfn_callback_urls.aws_lambda import (
    create_urls_handler,
    get_app,
    process_callback_handler,
    reset_app,
)
from sfn_callback_urls.testing import ApprovalMachine

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TEMPLATES = [EXAMPLES / "template.yaml", EXAMPLES / "approval_email" / "template.yaml"]
URL = re.compile(r"https://\S+/respond\?\S+")
APP_FUNCTIONS = {
    "CreateUrlsApiFunction": "sfn_callback_urls.aws_lambda.create_urls_handler",
    "CreateUrlsFunction": "sfn_callback_urls.aws_lambda.create_urls_handler",
    "ProcessCallbackFunction": "sfn_callback_urls.aws_lambda.process_callback_handler",
}


check_build = import_file(EXAMPLES / "check_build.py", "example_check_build", keep=False)
build_script = import_file(EXAMPLES / "lambda" / "build.py", "example_build", keep=False)


def read_template(path: Path) -> dict[str, Any]:
    """A SAM template as data, short tags (``!Ref``) read as ``{"Ref": ...}``."""
    loaded = yaml.load(path.read_text(encoding="utf-8"), check_build.CloudFormationLoader)  # noqa: S506
    assert isinstance(loaded, dict)
    return loaded


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The template's AWS::Serverless::Function resources by logical id."""
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


# The SAM CLI side (sam validate --lint, which runs cfn-lint; sam build; loading the built code
# on the runtime's Python) is `nox -s sam`. These check what the templates promise, cheaply.


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda path: str(path.relative_to(EXAMPLES)))
def test_every_function_is_built_by_its_makefile_for_the_build_scripts_python(path: Path) -> None:
    """Each function: BuildMethod makefile, a Makefile target, the runtime build.py targets."""
    template = read_template(path)
    globals_ = template.get("Globals", {}).get("Function", {})
    runtime = f"python{build_script.LAMBDA_PYTHON}"
    assert functions(template)
    for name, resource in functions(template).items():
        properties = resource["Properties"]
        assert resource["Metadata"]["BuildMethod"] == "makefile", name
        assert properties.get("Runtime", globals_.get("Runtime")) == runtime, name
        code = path.parent / properties.get("CodeUri", globals_.get("CodeUri"))
        makefile = (code / "Makefile").read_text(encoding="utf-8")
        assert f"build-{name}" in makefile or re.search(rf"FUNCTIONS :=.*\b{name}\b", makefile)
        assert properties.get("Architectures", globals_.get("Architectures")) == [
            {"Ref": "Architecture"}
        ]
        assert template["Parameters"]["Architecture"]["Default"] == "arm64"
        assert template["Parameters"]["Architecture"]["AllowedValues"] == ["arm64", "x86_64"]
    glue_makefile = (EXAMPLES / "approval_email" / "glue" / "Makefile").read_text(encoding="utf-8")
    assert f"RUNTIME_PYTHON ?= {runtime}\n" in glue_makefile


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda path: str(path.relative_to(EXAMPLES)))
def test_every_function_logs_json_to_a_log_group_with_retention(path: Path) -> None:
    """LoggingConfig: JSON, INFO, and a log group of the stack whose retention is a parameter."""
    template = read_template(path)
    globals_ = template.get("Globals", {}).get("Function", {})
    for name, resource in functions(template).items():
        logging = {**globals_.get("LoggingConfig", {}), **resource["Properties"]["LoggingConfig"]}
        assert logging["LogFormat"] == "JSON", name
        assert logging["ApplicationLogLevel"] == "INFO", name
        group = template["Resources"][logging["LogGroup"]["Ref"]]
        assert group["Type"] == "AWS::Logs::LogGroup"
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionInDays"}
    assert "LogRetentionInDays" in template["Parameters"]


def test_the_app_template_wires_the_handlers() -> None:
    """The app's three functions run this package's two handlers with the documented variables."""
    template = read_template(EXAMPLES / "template.yaml")
    found = {name: r["Properties"]["Handler"] for name, r in functions(template).items()}
    assert found == APP_FUNCTIONS
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert set(variables) == {
        "KEY_ID",
        "SFN_CALLBACK_URLS_PURPOSE",
        "ENABLE_OUTPUT_PARAMETERS",
        "ENABLE_POST_ACTIONS",
        "CONFIRM_GET",
        "CHECK_TASK_BEFORE_CONFIRM",
        "SFN_CALLBACK_URLS_PAGE_THEME",
        "ACCEPT_ORIGINAL_URLS",
        "EAGER_INIT",
        "SFN_CALLBACK_URLS_BUDGET",
    }
    assert variables["EAGER_INIT"] == "true"  # on by default: a snapshot keeps its work
    direct = template["Resources"]["CreateUrlsFunction"]["Properties"]["Environment"]
    assert set(direct["Variables"]) == {"CALLBACK_BASE_URL"}


def test_the_app_template_offers_snapstart_on_a_published_alias() -> None:
    """SnapStart is a parameter (off by default); every function publishes a `live` alias."""
    template = read_template(EXAMPLES / "template.yaml")
    parameter = template["Parameters"]["SnapStart"]
    assert (parameter["AllowedValues"], parameter["Default"]) == (
        ["None", "PublishedVersions"],
        "None",
    )
    globals_ = template["Globals"]["Function"]
    assert globals_["SnapStart"] == {"ApplyOn": {"Ref": "SnapStart"}}
    assert globals_["AutoPublishAlias"] == "live"
    assert int(globals_["Runtime"].removeprefix("python3.")) >= 12  # SnapStart's Pythons
    assert template["Outputs"]["FunctionAlias"]["Value"] == {
        "Fn::Sub": "${CreateUrlsFunction}:live"
    }


def test_the_app_template_throttles_the_api_and_can_reserve_concurrency() -> None:
    """Stage throttling for every method from two parameters; optional reserved concurrency."""
    template = read_template(EXAMPLES / "template.yaml")
    (settings,) = template["Resources"]["Api"]["Properties"]["MethodSettings"]
    assert settings == {
        "ResourcePath": "/*",
        "HttpMethod": "*",
        "ThrottlingRateLimit": {"Ref": "ThrottlingRateLimit"},
        "ThrottlingBurstLimit": {"Ref": "ThrottlingBurstLimit"},
    }
    callback = template["Resources"]["ProcessCallbackFunction"]["Properties"]
    assert callback["ReservedConcurrentExecutions"] == {
        "Fn::If": [
            "HasReservedConcurrency",
            {"Ref": "ReservedConcurrency"},
            {"Ref": "AWS::NoValue"},
        ]
    }
    assert template["Parameters"]["ReservedConcurrency"]["Default"] == ""
    create = template["Resources"]["CreateUrlsApiFunction"]["Properties"]["Events"]["CreateUrls"]
    assert create["Properties"]["Auth"] == {"Authorizer": "AWS_IAM"}


def test_the_app_template_grants_only_the_kms_calls_each_side_needs() -> None:
    """Minting functions may GenerateDataKey, the callback Decrypt; nobody Encrypt/ReEncrypt.

    And each may DescribeKey, which EAGER_INIT calls at init (metadata only).
    """
    template = read_template(EXAMPLES / "template.yaml")
    granted = {}
    for name, resource in functions(template).items():
        statements = [
            # A conditional statement ({"Fn::If": [condition, statement, AWS::NoValue]}) counts
            # as the statement it adds.
            s["Fn::If"][1] if "Fn::If" in s else s
            for policy in resource["Properties"]["Policies"]
            for s in policy["Statement"]
        ]
        granted[name] = {
            action
            for statement in statements
            for action in (
                [statement["Action"]]
                if isinstance(statement["Action"], str)
                else statement["Action"]
            )
            if action.startswith("kms:")
        }
    assert granted == {
        "CreateUrlsApiFunction": {"kms:GenerateDataKey", "kms:DescribeKey"},
        "CreateUrlsFunction": {"kms:GenerateDataKey", "kms:DescribeKey"},
        "ProcessCallbackFunction": {"kms:Decrypt", "kms:DescribeKey"},
    }
    policy = template["Resources"]["CallbackKey"]["Properties"]["KeyPolicy"]["Statement"]
    denials = [statement for statement in policy if statement["Effect"] == "Deny"]
    assert denials == [
        {
            "Sid": "NoEncryptOrReEncryptMintsUrls",
            "Effect": "Deny",
            "Principal": "*",
            "Action": ["kms:Encrypt", "kms:ReEncrypt*"],
            "Resource": "*",
        }
    ]


def test_original_urls_get_their_decrypt_only_when_accepted() -> None:
    """AcceptOriginalUrls adds one Decrypt for Encryption SDK messages, on the callback only."""
    template = read_template(EXAMPLES / "template.yaml")
    assert template["Parameters"]["AcceptOriginalUrls"]["Default"] == "false"
    assert template["Conditions"]["AcceptOriginal"] == {
        "Fn::Equals": [{"Ref": "AcceptOriginalUrls"}, "true"]
    }
    callback = template["Resources"]["ProcessCallbackFunction"]["Properties"]
    conditional = [
        s["Fn::If"] for policy in callback["Policies"] for s in policy["Statement"] if "Fn::If" in s
    ]
    assert conditional == [
        [
            "AcceptOriginal",
            {
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": {"Ref": "KmsKeyArn"},
                "Condition": {
                    "ForAllValues:StringEquals": {
                        "kms:EncryptionContextKeys": ["aws-crypto-public-key"]
                    },
                    "Null": {"kms:EncryptionContextKeys": "false"},
                },
            },
            {"Ref": "AWS::NoValue"},
        ]
    ]
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["ACCEPT_ORIGINAL_URLS"] == {"Ref": "AcceptOriginalUrls"}
    # Its code (aws-encryption-sdk) is a layer of the callback's, attached only then.
    assert callback["Layers"] == {
        "Fn::If": ["AcceptOriginal", [{"Ref": "OriginalUrlsLayer"}], {"Ref": "AWS::NoValue"}]
    }
    layer = template["Resources"]["OriginalUrlsLayer"]
    assert layer["Condition"] == "AcceptOriginal"
    assert layer["Metadata"] == {"BuildMethod": "makefile"}
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64", "x86_64"]
    makefile = (EXAMPLES / "lambda" / "Makefile").read_text(encoding="utf-8")
    assert "--part original-layer" in makefile.split("build-OriginalUrlsLayer:")[-1]


def test_encrypt_under_the_purpose_context_would_forge_urls(kms: Any, symmetric_key: str) -> None:
    """Why the key policy denies Encrypt: a data key the caller chose, Encrypt-ed, mints URLs."""

    class EncryptInsteadOfGenerate:
        """A KMS client that answers GenerateDataKey with Encrypt of a key the caller chose."""

        def __init__(self) -> None:
            self.meta = kms.meta

        def generate_data_key(self, **request: Any) -> dict[str, Any]:
            chosen = bytes(range(32))
            sealed = kms.encrypt(
                KeyId=request["KeyId"],
                Plaintext=chosen,
                EncryptionContext=request["EncryptionContext"],
            )
            return {"CiphertextBlob": sealed["CiphertextBlob"], "Plaintext": chosen}

    forger = Codec(KmsEnvelopeKey(symmetric_key, client=EncryptInsteadOfGenerate()), purpose="ok")
    url = (
        Minter(forger, base_url=APP_BASE_URL)
        .mint("A" * 684, [SuccessAction(name="approve", output={})])
        .urls["approve"]
    )
    handler_codec = Codec(KmsEnvelopeKey(symmetric_key, client=kms), purpose="ok")
    assert open_callback(handler_codec, url).claims.token == "A" * 684


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda path: str(path.relative_to(EXAMPLES)))
def test_sar_metadata_names_this_version(path: Path) -> None:
    """The app's Serverless Application Repository metadata carries the package's version."""
    metadata = read_template(path).get("Metadata", {}).get("AWS::ServerlessRepo::Application")
    if path.parent != EXAMPLES:
        assert metadata is None  # the example is not published
        return
    assert metadata["SemanticVersion"] == importlib.metadata.version("sfn-callback-urls")
    assert metadata["SpdxLicenseId"] == "Apache-2.0"
    for name in ("LicenseUrl", "ReadmeUrl"):
        assert (path.parent / metadata[name]).is_file()


# --- the build script and the check of its output ---------------------------------------------

ELF_X86_64 = b"\x7fELF" + bytes(14) + (62).to_bytes(2, "little")
ELF_ARM64 = b"\x7fELF" + bytes(14) + (183).to_bytes(2, "little")


def write(path: Path, content: bytes | str) -> None:
    """Write a file, making its folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode()
    path.write_bytes(content)


def test_build_takes_the_architecture_sam_resolved_or_the_override(tmp_path: Path) -> None:
    """The architecture comes from SAM's build graph, or the variable; else a clear stop."""
    artifacts = tmp_path / ".aws-sam" / "build" / "ProcessCallbackFunction"
    graph = tmp_path / ".aws-sam" / "build.toml"
    write(
        graph,
        '[function_build_definitions.a]\narchitecture = "arm64"\n'
        'functions = ["CreateUrlsFunction"]\n'
        '[function_build_definitions.b]\narchitecture = "x86_64"\n'
        'functions = ["ProcessCallbackFunction"]\n',
    )
    override = {build_script.ENV_ARCHITECTURE: "arm64"}
    assert build_script.architecture(artifacts, override) == "arm64"
    with pytest.raises(build_script.BuildError, match="expected one of"):
        build_script.architecture(artifacts, {build_script.ENV_ARCHITECTURE: "aarch64"})
    if sys.version_info < (3, 11):
        # No tomllib: the graph cannot be read, and the build says what to set instead.
        with pytest.raises(build_script.BuildError, match=r"needs Python 3\.11\+"):
            build_script.architecture(artifacts, {})
        return
    assert build_script.architecture(artifacts, {}) == "x86_64"
    assert build_script.architecture(artifacts.with_name("CreateUrlsFunction"), {}) == "arm64"
    with pytest.raises(build_script.BuildError, match="SFN_CALLBACK_URLS_ARCHITECTURE=arm64"):
        build_script.architecture(artifacts.with_name("GlueFunction"), {})
    graph.unlink()
    with pytest.raises(build_script.BuildError, match="does not name it"):
        build_script.architecture(artifacts, {})


def test_build_removes_what_the_functions_never_load_and_nothing_else(tmp_path: Path) -> None:
    """The cffi package (not its extension), pydantic v1, tests, stubs, C sources, RECORDs go."""
    kept = [
        "_cffi_backend.cpython-313-x86_64-linux-gnu.so",
        "cffi-1.0.dist-info/METADATA",
        "pydantic/main.py",
        "jsonschema/validators.py",
        "sfn_callback_urls/aws_lambda.py",
        "sfn_callback_urls/_original.py",
        "wrapt/_wrappers.cpython-313-x86_64-linux-gnu.so",
    ]
    gone = [
        "cffi/api.py",
        "pycparser/c_parser.py",
        "pydantic/v1/main.py",
        "pydantic/mypy.py",
        "jsonschema/tests/test_validators.py",
        "jsonschema/benchmarks/nested.py",
        "sfn_callback_urls/testing/__init__.py",
        "sfn_callback_urls/_cli.py",
        "pydantic_core/_pydantic_core.pyi",
        "wrapt/_wrappers.c",
        "cffi-1.0.dist-info/RECORD",
        "bin/sfn-callback-urls",
    ]
    for path in kept + gone:
        write(tmp_path / path, "")
    build_script.remove_never_loaded(tmp_path)
    left = sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*") if path.is_file())
    assert left == sorted(kept)


def test_build_fails_without_the_runtimes_python_unless_told_to_skip_bytecode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No python3.13: a clear stop naming the opt-out; with the opt-out, a note and no bytecode."""
    write(tmp_path / "pkg" / "__init__.py", "")
    with pytest.raises(build_script.BuildError) as refused:
        build_script.compile_bytecode(tmp_path, "/var/task", {}, None)
    message = str(refused.value)
    assert "python3.13 (the runtime's Python) is not on PATH" in message
    assert "SFN_CALLBACK_URLS_SKIP_BYTECODE=true sam build" in message
    build_script.compile_bytecode(
        tmp_path, "/var/task", {build_script.ENV_SKIP_BYTECODE: "true"}, None
    )
    assert (
        "no bytecode compiled, as SFN_CALLBACK_URLS_SKIP_BYTECODE allows" in capsys.readouterr().out
    )
    assert not list(tmp_path.rglob("*.pyc"))


def test_the_layer_drops_native_code_only_where_python_falls_back(tmp_path: Path) -> None:
    """The wrapt extension goes (Python is its fallback); other native modules stop the build."""
    write(tmp_path / "wrapt" / "_wrappers.cpython-313-x86_64-linux-gnu.so", ELF_X86_64)
    write(tmp_path / "wrapt" / "wrappers.py", "")
    build_script.drop_extensions_with_fallbacks(tmp_path)
    assert [path.name for path in (tmp_path / "wrapt").iterdir()] == ["wrappers.py"]
    write(tmp_path / "cryptography" / "_rust.abi3.so", ELF_X86_64)
    with pytest.raises(build_script.BuildError, match=re.escape("cryptography/_rust.abi3.so")):
        build_script.drop_extensions_with_fallbacks(tmp_path)


def dist(target: Path, name: str, requires: list[str], files: list[str]) -> None:
    """A fake installed distribution: METADATA, RECORD and its files."""
    info = target / f"{name.replace('-', '_')}-1.0.dist-info"
    metadata = [f"Name: {name}", *(f"Requires-Dist: {r}" for r in requires)]
    write(info / "METADATA", "\n".join(metadata) + "\n")
    record = [*files, f"{info.name}/METADATA", f"{info.name}/RECORD"]
    write(info / "RECORD", "".join(f"{file},,\n" for file in record))
    for file in files:
        write(target / file, "")


def test_build_leaves_boto3_to_the_runtime_unless_something_else_needs_it(tmp_path: Path) -> None:
    """boto3's distributions are removed file by file; a dependency needing one stops the build."""
    dist(tmp_path, "sfn-callback-urls", ["boto3>=1.34", "pydantic"], ["sfn_callback_urls/a.py"])
    dist(tmp_path, "boto3", ["botocore"], ["boto3/__init__.py"])
    dist(tmp_path, "botocore", ["urllib3; python_version >= '3.10'"], ["botocore/__init__.py"])
    dist(
        tmp_path,
        "pydantic",
        ["typing-extensions", "email-validator; extra == 'email'"],
        ["pydantic/x.py"],
    )
    build_script.remove_provided(tmp_path, "sfn-callback-urls")
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "pydantic",
        "pydantic-1.0.dist-info",
        "sfn_callback_urls",
        "sfn_callback_urls-1.0.dist-info",
    ]
    dist(tmp_path, "needs-urllib3", ["urllib3>=2"], ["needs_urllib3.py"])
    with pytest.raises(build_script.BuildError, match="needs-urllib3 needs \\['urllib3'\\]"):
        build_script.remove_provided(tmp_path, "sfn-callback-urls")


def test_check_requires_the_functions_architecture_and_no_other(tmp_path: Path) -> None:
    """Native modules are read by their ELF header: a missing or a foreign one is reported."""
    write(tmp_path / "pkg" / "_a.cpython-313-x86_64-linux-gnu.so", ELF_X86_64)
    write(tmp_path / "pkg" / "_a.cpython-313-aarch64-linux-gnu.so", ELF_ARM64)
    write(tmp_path / "pkg" / "_b.cpython-313-x86_64-linux-gnu.so", ELF_X86_64)
    write(tmp_path / "pkg" / "_c.so", b"not a library")
    assert check_build.check_native(tmp_path, ["x86_64", "arm64"]) == [
        "pkg/_c.so: not a Linux x86_64 or arm64 library",
        "pkg/_b: no arm64 build (found ['x86_64'])",
    ]
    assert check_build.check_native(tmp_path, ["x86_64"]) == [
        "pkg/_a.cpython-313-aarch64-linux-gnu.so: arm64 code in a x86_64 function",
        "pkg/_c.so: not a Linux x86_64 or arm64 library",
    ]


# --- the approval e-mail's glue function -----------------------------------------------------


class FakeLambda:
    """Invokes the create-URLs handler in process, as Lambda would invoke the deployed one."""

    def __init__(self) -> None:
        self.function_names: list[str] = []

    def invoke(self, FunctionName: str, Payload: str) -> dict[str, Any]:
        """Lambda's Invoke: the handler's result as the payload stream."""
        self.function_names.append(FunctionName)
        result = create_urls_handler(json.loads(Payload), None)
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(result).encode())}


class FakeSns:
    """Records what would have been e-mailed."""

    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(self, **message: Any) -> dict[str, str]:
        """SNS Publish."""
        self.published.append(message)
        return {"MessageId": str(len(self.published))}


@pytest.fixture
def glue(app_env: pytest.MonkeyPatch) -> ModuleType:
    """The glue module, with the create-URLs app configured and fake Lambda and SNS clients."""
    app_env.setenv("CREATE_URLS_FUNCTION_NAME", "SfnCallbackUrls-CreateUrlsFunction")
    app_env.setenv("TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:approvals")
    module = import_file(
        EXAMPLES / "approval_email" / "glue" / "app.py", "approval_email_glue", keep=False
    )
    lambda_client, sns_client = FakeLambda(), FakeSns()
    app_env.setattr(module, "lambda_client", lambda: lambda_client)
    app_env.setattr(module, "sns_client", lambda: sns_client)
    return module


def click(url: str) -> int:
    """Open a callback URL through the deployed app's callback handler; its status."""
    return get_app().callback_handler.handle(CallbackRequest("GET", url.split("?", 1)[1])).status


def test_glue_approval_email_flow(glue: ModuleType, approval_machine: ApprovalMachine) -> None:
    """The glue e-mails working approve/reject links, then the confirmation."""
    execution_arn = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()

    assert (
        glue.handler({"state": "WaitForTokenState", "name_in_input": "Ben", "token": token}, None)
        == {}
    )

    sns = glue.sns_client()
    request_mail = sns.published[0]
    assert request_mail["Subject"] == glue.SUBJECT_REQUEST
    assert request_mail["TopicArn"] == "arn:aws:sns:us-east-1:123456789012:approvals"
    assert request_mail["Message"].startswith("Hello Ben,")
    approve, reject = URL.findall(request_mail["Message"])
    assert "action=approve&type=success" in approve
    assert "action=reject&type=failure" in reject
    assert glue.lambda_client().function_names == ["SfnCallbackUrls-CreateUrlsFunction"]

    assert click(approve) == 200
    assert approval_machine.wait_for_status(execution_arn)["status"] == "SUCCEEDED"
    output = approval_machine.confirmation()
    assert output == {"name_in_output": "Ben"}

    glue.handler({"state": "SendConfirmation", "output": output}, None)
    confirmation = sns.published[1]
    assert confirmation["Subject"] == glue.SUBJECT_DONE
    assert confirmation["Message"] == "Hello Ben,\n\nYour task is complete.\n"


def test_glue_rejection_email(glue: ModuleType) -> None:
    """A caught rejection's cause is e-mailed."""
    glue.handler(
        {"state": "SendConfirmation", "output": {"Error": "rejected", "Cause": "Ben rejected it"}},
        None,
    )
    assert (
        glue.sns_client()
        .published[0]["Message"]
        .endswith("Your task was rejected: Ben rejected it\n")
    )


def test_glue_request_expires_in_a_week(glue: ModuleType) -> None:
    """The glue's request is the blog's, plus an expiration a week ahead."""
    request = glue.create_urls_request("token", "Ben")
    assert [action["name"] for action in request["actions"]] == ["approve", "reject"]
    assert request["actions"][1]["cause"] == "Ben rejected it"
    created = create_urls_handler(request, None)
    assert set(created) == {"transaction_id", "urls", "expiration"}


def test_glue_fails_the_task_on_create_errors(
    glue: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error from the create-URLs function raises, so the task fails instead of waiting."""
    monkeypatch.delenv(ENV_KEY)
    reset_app()
    with pytest.raises(RuntimeError, match="ConfigurationError"):
        glue.handler({"state": "WaitForTokenState", "name_in_input": "Ben", "token": "t"}, None)
    assert glue.sns_client().published == []


def test_glue_unknown_state(glue: ModuleType) -> None:
    """Any other state is a bug in the state machine."""
    with pytest.raises(ValueError, match="Unknown state"):
        glue.handler({"state": "Elsewhere"}, None)


def test_deployed_handler_answers_the_glue_links(
    glue: ModuleType, approval_machine: ApprovalMachine
) -> None:
    """The links also work through process_callback_handler, as API Gateway delivers them."""
    execution_arn = approval_machine.start("Ben")
    token, _ = approval_machine.wait_for_token()
    glue.handler({"state": "WaitForTokenState", "name_in_input": "Ben", "token": token}, None)
    approve = URL.findall(glue.sns_client().published[0]["Message"])[0]
    query = approve.split("?", 1)[1]
    event = {
        "httpMethod": "GET",
        "path": "/respond",
        "headers": {"Accept": "application/json"},
        "multiValueQueryStringParameters": None,
        "queryStringParameters": dict(item.split("=", 1) for item in query.split("&")),
        "requestContext": {"stage": "v1", "path": "/v1/respond"},
        "body": None,
        "isBase64Encoded": False,
    }
    assert process_callback_handler(event, None)["statusCode"] == 200
    assert approval_machine.wait_for_status(execution_arn)["status"] == "SUCCEEDED"


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make (`.ci/run` installs it)")
def test_the_glue_build_fails_without_the_runtimes_python_unless_told_to_skip(
    tmp_path: Path,
) -> None:
    """The approval e-mail's Makefile: no runtime Python stops the build, unless opted out."""
    glue = EXAMPLES / "approval_email" / "glue"
    command = ["make", "-s", "-C", str(glue), "build-GlueFunction", "RUNTIME_PYTHON=python3.99"]
    environ = {**os.environ, "ARTIFACTS_DIR": str(tmp_path)}
    environ.pop("SFN_CALLBACK_URLS_SKIP_BYTECODE", None)
    refused = subprocess.run(command, env=environ, capture_output=True, text=True, check=False)  # noqa: S603
    assert refused.returncode != 0
    assert "SFN_CALLBACK_URLS_SKIP_BYTECODE=true sam build" in refused.stderr
    environ["SFN_CALLBACK_URLS_SKIP_BYTECODE"] = "true"
    allowed = subprocess.run(command, env=environ, capture_output=True, text=True, check=False)  # noqa: S603
    assert allowed.returncode == 0, allowed.stderr
    assert (tmp_path / "app.py").is_file()
    assert not list(tmp_path.rglob("*.pyc"))
