"""Check what `sam build` made: every function's code loads on its Lambda runtime's Python.

    cd examples && sam build && python3 check_build.py .aws-sam/build --boto3 DIR
    (sam build --parameter-overrides Architecture=x86_64 ... --parameter Architecture=x86_64)

For each function of the built template (``.aws-sam/build/template.yaml``), its parameters
resolved to their defaults or ``--parameter NAME=VALUE`` (as given to ``sam build``), it checks

- the function's folder holds at most ``--max-mib`` MiB (unzipped, as Lambda counts it);
- every native module in it is built for the function's architecture (by the ELF header), and
  none for another: each function carries its own architecture's code only;

then runs the runtime's Python (``python3.13`` for ``Runtime: python3.13``, found on PATH)
isolated from this machine's packages (``-I -S``), with the function's folder first on
``sys.path``, its layers' ``python/`` folders next and only DIR (a folder holding boto3, as the
Lambda runtime provides it) after them, and checks, when the function runs on this machine's
architecture, that

- every native module imports;
- the handler imports and is callable;
- every module has bytecode for that Python (``--invalidation-mode unchecked-hash``), unless the
  build said it skipped it (``--allow-missing-bytecode``);
- the create-URLs handler, invoked directly with a throwaway local key, mints URLs (a ``post``
  action among them, so the JSON Schema code loads); the callback handler answers a GET of one
  with its confirmation page; a function with layers loads the original app's format from them.

Any failure is printed with its reason and the exit status is 1. Needs PyYAML (`sam` has it).
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

#: ELF ``e_machine`` values of the two Lambda architectures.
ELF_MACHINES = {62: "x86_64", 183: "arm64"}
#: This machine's architecture in Lambda's words.
HOST_ARCH = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}.get(
    platform.machine().lower(), platform.machine()
)

# Runs inside the runtime's Python: argv = [function folder, boto3 folder, handler, smoke].
PROBE = r"""
import importlib, importlib.machinery, importlib.util, json, os, sys
folder, boto3_folder, handler, smoke = sys.argv[1:5]
layers = [path for path in sys.argv[5:] if path]
sys.path[:0] = [folder, *layers]
sys.path.append(boto3_folder)
report = {"python": "%d.%d" % sys.version_info[:2], "errors": [], "extensions": [],
          "bytecode": {"modules": 0, "missing": [], "wrong": []}}
suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
for root, dirs, files in os.walk(folder):
    dirs[:] = [d for d in dirs if d != "__pycache__" and not d.endswith(".dist-info")]
    for name in files:
        path = os.path.join(root, name)
        relative = os.path.relpath(path, folder)
        suffix = next((suffix for suffix in suffixes if name.endswith(suffix)), None)
        if suffix and not relative.startswith("bin" + os.sep):
            module = relative[: -len(suffix)].replace(os.sep, ".")
            try:
                importlib.import_module(module)
                report["extensions"].append(module)
            except Exception as error:
                report["errors"].append("extension %s: %r" % (module, error))
        elif name.endswith(".py"):
            report["bytecode"]["modules"] += 1
            cached = importlib.util.cache_from_source(path)
            if not os.path.exists(cached):
                report["bytecode"]["missing"].append(relative)
                continue
            with open(cached, "rb") as file:
                header = file.read(8)
            flags = int.from_bytes(header[4:8], "little")
            if header[:4] != importlib.util.MAGIC_NUMBER or flags != 0b01:
                report["bytecode"]["wrong"].append(relative)
module_name, _, function_name = handler.rpartition(".")
try:
    function = getattr(importlib.import_module(module_name), function_name)
    if not callable(function):
        report["errors"].append("handler %s is not callable" % handler)
except Exception as error:
    report["errors"].append("handler %s: %r" % (handler, error))
    function = None
if function is not None and smoke:
    from sfn_callback_urls import Codec, CreateUrlsRequest, LocalKey, Minter
    key = LocalKey.generate()
    os.environ["SFN_CALLBACK_URLS_KEY"] = key.to_string()
    os.environ["CALLBACK_BASE_URL"] = "https://example.invalid/v1"
    os.environ["ENABLE_POST_ACTIONS"] = "true"
    os.environ["CONFIRM_GET"] = "true"
    schema = {"type": "object", "properties": {"comment": {"type": "string", "pattern": "^\\w"}}}
    outcome = {"name": "done", "type": "success", "schema": schema, "output_body": True}
    actions = [
        {"name": "approve", "type": "success", "output": {}},
        {"name": "comment", "type": "post", "outcomes": [outcome]},
    ]
    request = {"token": "A" * 684, "actions": actions}
    try:
        if smoke == "create-urls":
            answer = function(request, None)
            url = answer["urls"]["approve"]
            if not url.startswith("https://example.invalid/v1/respond?"):
                report["errors"].append("create-URLs answered %r" % sorted(answer))
        else:  # the callback: a GET asks for a confirmation, so no AWS call is made
            minted = Minter(Codec(key), base_url="https://example.invalid/v1").create_urls(
                CreateUrlsRequest.model_validate(request)
            )
            query = minted.urls["approve"].split("?", 1)[1]
            event = {
                "version": "2.0", "rawPath": "/respond", "rawQueryString": query,
                "headers": {"accept": "text/html"}, "isBase64Encoded": False,
                "requestContext": {"http": {"method": "GET", "path": "/respond"}},
            }
            answer = function(event, None)
            if answer.get("statusCode") != 200 or "<form" not in answer.get("body", ""):
                report["errors"].append("callback GET answered %r" % answer.get("statusCode"))
    except Exception as error:
        report["errors"].append("%s invocation: %r" % (smoke, error))
if layers:
    try:  # the `original` extra (AcceptOriginalUrls) loads from the layer, with the runtime's boto3
        from sfn_callback_urls._original import require_sdk
        require_sdk()
    except Exception as error:
        report["errors"].append("the original extra (aws-encryption-sdk): %r" % (error,))
try:
    import boto3
    where = os.path.dirname(os.path.dirname(boto3.__file__))
    report["boto3"] = "%s from %s" % (boto3.__version__, where)
except Exception as error:
    report["errors"].append("boto3: %r" % (error,))
    report["boto3"] = None
print(json.dumps(report))
"""

#: Handlers worth invoking, not only importing: they need no AWS when given a local key.
SMOKE = {
    "sfn_callback_urls.aws_lambda.create_urls_handler": "create-urls",
    "sfn_callback_urls.aws_lambda.process_callback_handler": "callback",
}
#: Lambda's limit is 250 MB; ours is tighter: the code is unzipped on every cold start.
MAX_MIB = 30.0


class CloudFormationLoader(yaml.SafeLoader):
    """A YAML loader that reads CloudFormation's short tags (``!Ref`` ...) as plain data."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CloudFormationLoader.add_multi_constructor("!", _intrinsic)


def elf_arch(path: Path) -> str | None:
    """The Lambda architecture of an ELF file, or None if it is not ELF (or neither)."""
    with path.open("rb") as file:
        header = file.read(20)
    if header[:4] != b"\x7fELF":
        return None
    return ELF_MACHINES.get(int.from_bytes(header[18:20], "little"))


def resolve(value: Any, parameters: dict[str, Any]) -> Any:
    """A property's value: a ``Ref`` to a parameter becomes the parameter's value."""
    if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in parameters:
        return parameters[value["Ref"]]
    if isinstance(value, list):
        resolved: list[Any] = []
        for item in value:
            item = resolve(item, parameters)
            resolved.extend(item if isinstance(item, list) else [item])
        return resolved
    return value


def runtime_python(runtime: str) -> str:
    """The path of the Python the runtime (``python3.13``) names; exits if it is missing."""
    version = runtime.removeprefix("python")
    path = shutil.which(f"python{version}")
    if path:
        probe = [path, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]
        result = subprocess.run(probe, capture_output=True, text=True, check=False)  # noqa: S603
        if result.returncode == 0 and result.stdout.strip() == version:
            return path
    sys.exit(
        f"FAIL: python{version} (the {runtime} runtime's Python) is not on PATH: install it"
        " (e.g. pyenv install), or with pyenv: export PYENV_VERSION=system:" + version
    )


def check_native(folder: Path, architectures: list[str]) -> list[str]:
    """Each extension module must exist as an ELF file of every architecture in the list.

    And no native code for another architecture: the function would carry it for nothing.
    """
    errors = []
    modules: dict[str, set[str]] = {}
    for path in sorted(folder.rglob("*.so")):
        arch = elf_arch(path)
        relative = path.relative_to(folder)
        if arch is None:
            errors.append(f"{relative}: not a Linux x86_64 or arm64 library")
            continue
        if arch not in architectures:
            errors.append(f"{relative}: {arch} code in a {'/'.join(architectures)} function")
            continue
        name = relative.name.split(".", 1)[0]
        if relative.parent.name.endswith(".libs"):
            continue  # a vendored shared library, loaded by the module that needs it
        modules.setdefault(str(relative.parent / name), set()).add(arch)
    for module, found in sorted(modules.items()):
        for arch in architectures:
            if arch not in found:
                errors.append(f"{module}: no {arch} build (found {sorted(found)})")
    return errors


def folder_bytes(folder: Path) -> int:
    """What ``folder`` holds, in bytes: the size Lambda counts for unzipped code."""
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def layer_names(value: Any) -> list[str]:
    """The layer resources a ``Layers`` property may name (every branch of an ``Fn::If``)."""
    if isinstance(value, dict):
        if set(value) == {"Ref"}:
            return [value["Ref"]]
        return [name for item in value.values() for name in layer_names(item)]
    if isinstance(value, list):
        return [name for item in value for name in layer_names(item)]
    return []


def check_function(
    name: str, properties: dict[str, Any], globals_: dict[str, Any], context: dict[str, Any]
) -> list[str]:
    """Check one built function; returns its errors and prints what it checked."""
    build_dir: Path = context["build_dir"]
    folder = (build_dir / properties["CodeUri"]).resolve()
    handler = properties["Handler"]
    runtime = properties.get("Runtime", globals_.get("Runtime"))
    architectures = resolve(
        properties.get("Architectures", globals_.get("Architectures", ["x86_64"])),
        context["parameters"],
    )
    size = folder_bytes(folder)
    errors = check_native(folder, architectures)
    if size > context["max_mib"] * 2**20:
        errors.append(f"{size / 2**20:.1f} MiB unzipped, over {context['max_mib']:g} MiB")
    layers = [
        (build_dir / context["layers"][name]).resolve() / "python"
        for name in layer_names(properties.get("Layers", globals_.get("Layers")))
        if name in context["layers"]
    ]
    print(f"  {name}: {size / 2**20:.1f} MiB unzipped, {len(layers)} layer(s)")
    if HOST_ARCH not in architectures:
        print(f"  {name}: {sorted(architectures)} do not include this machine's {HOST_ARCH}")
        return errors
    if not isinstance(runtime, str) or not runtime.startswith("python"):
        return [*errors, f"Runtime {runtime!r} is not a Python runtime"]
    python = runtime_python(runtime)
    command = [python, "-I", "-S", "-B", "-c", PROBE, str(folder), str(context["boto3"])]
    command += [handler, SMOKE.get(handler, ""), *map(str, layers)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode:
        return [*errors, f"{runtime} crashed: {result.stderr.strip()[-2000:]}"]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    errors += report["errors"]
    bytecode = report["bytecode"]
    if bytecode["wrong"]:
        errors.append(f"bytecode not for {runtime} or not unchecked-hash: {bytecode['wrong'][:5]}")
    if bytecode["missing"] and not context["allow_missing_bytecode"]:
        errors.append(
            f"{len(bytecode['missing'])} modules without bytecode, e.g. {bytecode['missing'][:3]}"
        )
    print(
        f"  {name}: {handler} on {runtime} ({', '.join(architectures)}):"
        f" {len(report['extensions'])} native modules imported,"
        f" {bytecode['modules'] - len(bytecode['missing'])}/{bytecode['modules']} modules compiled"
        + (f", {SMOKE[handler]} invoked" if handler in SMOKE else "")
        + f"; boto3 {report['boto3']}"
    )
    return errors


def main(argv: list[str] | None = None) -> int:
    """Check every function of the built template; 0 if all load, 1 otherwise."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir", type=Path, help="sam build's output (.aws-sam/build)")
    parser.add_argument("--boto3", type=Path, required=True, help="a folder holding boto3")
    parser.add_argument("--allow-missing-bytecode", action="store_true")
    parser.add_argument(
        "--parameter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a template parameter as given to sam build (default: its Default)",
    )
    parser.add_argument("--max-mib", type=float, default=MAX_MIB, help="per function, unzipped")
    args = parser.parse_args(argv)
    text = (args.build_dir / "template.yaml").read_text(encoding="utf-8")
    template = yaml.load(text, CloudFormationLoader)  # noqa: S506 - a SafeLoader subclass
    parameters = {
        name: spec.get("Default") for name, spec in template.get("Parameters", {}).items()
    }
    parameters.update(item.split("=", 1) for item in args.parameter)
    context = {
        "build_dir": args.build_dir,
        "boto3": args.boto3.resolve(),
        "parameters": parameters,
        "allow_missing_bytecode": args.allow_missing_bytecode,
        "max_mib": args.max_mib,
        "layers": {
            name: resource["Properties"]["ContentUri"]
            for name, resource in template["Resources"].items()
            if resource["Type"] == "AWS::Serverless::LayerVersion"
        },
    }
    globals_ = template.get("Globals", {}).get("Function", {})
    functions = {
        name: resource["Properties"]
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    if not functions:
        print(f"FAIL: no functions in {args.build_dir / 'template.yaml'}")
        return 1
    failed = False
    print(f"{args.build_dir}:")
    for name, properties in sorted(functions.items()):
        errors = check_function(name, properties, globals_, context)
        for error in errors:
            print(f"FAIL {name}: {error}")
        failed = failed or bool(errors)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
