"""Read the Serverless Devs template (``template.yml``) the way ``s`` resolves it.

Two editions: ``template.yml`` (edition 1.0.0, ``services:`` of the FC 2.0 ``fc``
component, a function inside a service) and ``template.fc3.yml`` (edition 3.0.0,
``resources:`` of the FC 3.0 ``fc3`` component, functions without services). Commands that
talk to FC 2.0's API read the first only; ``invoke`` and ``remote-invoke`` read both.

The account id is never written in the template: ``${config('AccountID')}`` (Serverless
Devs 3's spelling) or ``${config(AccountID)}`` (older docs') stands for the account of the
access ``s`` deploys with. The tools substitute the caller's account where they need one
(given with ``account_id``) and otherwise leave the expression as it is.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from resource_repair.errors import ResourceRepairError
from resource_repair.tools.file_bounds import KIB, FileTooLargeError, read_bytes_at_most

_VARIABLE = re.compile(r"\$\{vars\.([A-Za-z0-9_]+)\}")
_ACCOUNT = re.compile(r"""\$\{\s*config\(\s*(['"]?)AccountID\1\s*\)\s*\}""")


# A template is a few KiB; one past this is no template (or /dev/zero).
MAX_TEMPLATE_BYTES = 512 * KIB
# YAML aliases share one node among many places (``&a`` / ``*a``), and may even hold
# themselves: walked as a tree, a few lines become billions of nodes or an endless descent.
# A template's props are a few hundred nodes, a few levels deep.
MAX_TEMPLATE_NODES = 100_000
MAX_TEMPLATE_DEPTH = 50


class TemplateError(ResourceRepairError, ValueError):
    """The template cannot be read or lacks what the tool needs."""


@dataclasses.dataclass(frozen=True)
class FunctionTemplate:
    """The parts of the template's event function that the tools use, variables resolved."""

    region: str
    service: str
    function: str
    handler: str
    runtime: str
    code_uri: str
    timeout: int
    environment: dict[str, str]
    variables: dict[str, Any]
    props: dict[str, Any]
    """The component's whole ``props`` block, as the ``fc`` (or ``fc3``) schema validates it."""
    fc_version: int = 2
    """2: an ``fc`` function in a service; 3: an ``fc3`` function (``service`` is "")."""


FC3_EDITION = "3.0.0"
DEFAULT_TEMPLATE = "template.yml"
"""The template a command reads when none is named: the FC 2.0 one, in the clone's root."""


def load_template(
    path: str | Path, *, account_id: str | None = None, accept_fc3: bool = False
) -> FunctionTemplate:
    """The template's event function, ``${vars.*}`` resolved and the account expression
    replaced by ``account_id`` when one is given. An FC 3.0 template is read only when the
    caller can use one (``accept_fc3``); otherwise it is refused by name."""
    document = read_document(path)
    variables = document.get("vars") or {}
    if not isinstance(variables, dict):
        raise TemplateError(f"template {path}: vars must be a mapping")
    if str(document.get("edition", "")).startswith("3."):
        if not accept_fc3:
            raise TemplateError(
                f"template {path} is an FC 3.0 template (edition {FC3_EDITION}, component"
                " fc3); this command works with FC 2.0 templates such as template.yml"
            )
        return _load_fc3(document, variables, path, account_id)
    if not isinstance(document.get("services"), dict):
        raise TemplateError(f"template {path} has no services")
    props = resolve_variables(_event_function(document["services"], path), variables)
    if account_id is not None:
        props = resolve_account(props, account_id)
    try:
        function = props["function"]
        return FunctionTemplate(
            region=str(props["region"]),
            service=str(props["service"]["name"]),
            function=str(function["name"]),
            handler=str(function["handler"]),
            runtime=str(function["runtime"]),
            code_uri=str(function["codeUri"]),
            timeout=_timeout(function.get("timeout", 60), path),
            environment=_environment(function.get("environmentVariables"), path),
            variables=dict(variables),
            props=props,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise TemplateError(f"template {path} lacks a function setting: {exc}") from None


def read_document(path: str | Path) -> dict[str, Any]:
    """The template as YAML gives it, refused in one line when it cannot be a template."""
    try:
        text = read_bytes_at_most(path, MAX_TEMPLATE_BYTES, "template").decode("utf-8")
        document = yaml.safe_load(text)
    except FileNotFoundError:
        raise TemplateError(
            f"cannot read template {path}: no such file in {Path.cwd()}"
            " (run the command in the clone, or pass -t PATH/template.yml)"
        ) from None
    except OSError as exc:
        raise TemplateError(f"cannot read template {path}: {exc.strerror}") from None
    except FileTooLargeError as exc:
        raise TemplateError(str(exc)) from None
    except UnicodeDecodeError as exc:
        # An editor's legacy encoding (GBK for a Chinese comment): s reads UTF-8 too.
        raise TemplateError(
            f"template {path} is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at"
            f" offset {exc.start}): save it as UTF-8"
        ) from None
    except yaml.YAMLError as exc:
        raise TemplateError(f"template {path} is not valid YAML: {exc}") from None
    except RecursionError:  # brackets nested past what the parser descends
        raise TemplateError(
            f"template {path} nests deeper than YAML is read here ({MAX_TEMPLATE_DEPTH} levels"
            " is the most a template may use)"
        ) from None
    if not isinstance(document, dict):
        raise TemplateError(f"template {path} is not a Serverless Devs template")
    return document


def _load_fc3(
    document: dict[str, Any], variables: dict[str, Any], path: str | Path, account_id: str | None
) -> FunctionTemplate:
    resources = document.get("resources")
    if not isinstance(resources, dict):
        raise TemplateError(f"template {path} has no resources")
    fc3 = [r for r in resources.values() if isinstance(r, dict) and _is_fc3(r.get("component"))]
    if len(fc3) > 1:
        fc3 = [r for r in fc3 if _has_topic_trigger(r.get("props"), "triggerType")]
    if len(fc3) != 1:
        raise TemplateError(f"template {path} must have one fc3 function with an mns_topic trigger")
    props = fc3[0].get("props")
    props = resolve_variables(props if isinstance(props, dict) else {}, variables)
    if account_id is not None:
        props = resolve_account(props, account_id)
    try:
        code = props["code"]
        return FunctionTemplate(
            region=str(props["region"]),
            service="",
            function=str(props["functionName"]),
            handler=str(props["handler"]),
            runtime=str(props["runtime"]),
            code_uri=code if isinstance(code, str) else str(code.get("src", "")),
            timeout=_timeout(props.get("timeout", 3), path),  # the fc3 component's default
            environment=_environment(props.get("environmentVariables"), path),
            variables=dict(variables),
            props=props,
            fc_version=3,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise TemplateError(f"template {path} lacks a function setting: {exc}") from None


def _timeout(value: Any, path: str | Path) -> int:
    """The function's timeout in seconds: a whole number FC accepts (1 to 86,400)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TemplateError(f"template {path}: timeout {value!r} is not a whole number of seconds")
    try:
        seconds = int(value)
    except ValueError:
        raise TemplateError(
            f"template {path}: timeout {value!r} is not a whole number of seconds"
        ) from None
    if not 1 <= seconds <= 86_400:
        raise TemplateError(f"template {path}: timeout {seconds} is outside 1 to 86400 seconds")
    return seconds


def _environment(value: Any, path: str | Path) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TemplateError(f"template {path}: environmentVariables must be a mapping")
    return {str(k): str(v) for k, v in value.items()}


def _is_fc3(component: object) -> bool:
    """``fc3``, ``fc3@<version>``, or the registry's ``devsapp/fc3`` forms."""
    name = str(component or "").removeprefix("devsapp/")
    return name == "fc3" or name.startswith("fc3@")


def _event_function(services: dict[str, Any], path: str | Path) -> dict[str, Any]:
    """The props of the function Cloud Config's messages reach: the one ``fc`` entry, or
    of several (a timer-driven sweep beside it) the one with an ``mns_topic`` trigger."""
    fc = [s for s in services.values() if isinstance(s, dict) and s.get("component") == "fc"]
    if len(fc) > 1:
        fc = [s for s in fc if _has_topic_trigger(s.get("props"))]
    if len(fc) != 1:
        raise TemplateError(f"template {path} must have one fc function with an mns_topic trigger")
    props = fc[0].get("props") or {}
    return props if isinstance(props, dict) else {}


def _has_topic_trigger(props: Any, key: str = "type") -> bool:
    """Whether ``props`` has an mns_topic trigger (``type`` in fc, ``triggerType`` in fc3)."""
    triggers = props.get("triggers") if isinstance(props, dict) else None
    return isinstance(triggers, list) and any(
        isinstance(t, dict) and t.get(key) == "mns_topic" for t in triggers
    )


def resolve_variables(value: Any, variables: dict[str, Any]) -> Any:
    """Replace ``${vars.name}`` everywhere, as Serverless Devs does before deploying."""

    def lookup(match: re.Match[str]) -> str:
        name = match[1]
        if name not in variables:
            raise TemplateError(f"${{vars.{name}}} is used but not defined under vars")
        return str(variables[name])

    return _replace_strings(value, lambda text: _VARIABLE.sub(lookup, text))


def resolve_account(value: Any, account_id: str) -> Any:
    """Replace ``${config('AccountID')}`` / ``${config(AccountID)}`` with ``account_id``."""
    if not (account_id.isascii() and account_id.isdigit()):
        raise TemplateError(f"account id {account_id!r} must be digits")
    return _replace_strings(value, lambda text: _ACCOUNT.sub(account_id, text))


def _replace_strings(value: Any, replace: Callable[[str], str]) -> Any:
    """A copy of ``value`` with every string replaced, refused past the bounds above."""
    visited = 0

    def walk(node: Any, depth: int) -> Any:
        nonlocal visited
        visited += 1
        if depth > MAX_TEMPLATE_DEPTH:
            raise TemplateError(f"the template nests deeper than {MAX_TEMPLATE_DEPTH} levels")
        if visited > MAX_TEMPLATE_NODES:
            raise TemplateError(
                f"the template holds more than {MAX_TEMPLATE_NODES} values once its YAML"
                " aliases are expanded"
            )
        if isinstance(node, dict):
            return {k: walk(v, depth + 1) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, depth + 1) for v in node]
        if isinstance(node, str):
            return replace(node)
        return node

    return walk(value, 0)


def function_names(path: str | Path) -> tuple[str, ...]:
    """The names of the functions the template deploys beside its event function (first)
    in the same service (the sweep): the functions whose logs hold audit records."""
    template = load_template(path, accept_fc3=True)
    document = read_document(path)
    variables = document.get("vars") or {}
    names = [template.function]
    if template.fc_version == 3:
        entries = document.get("resources")
        for entry in entries.values() if isinstance(entries, dict) else ():
            if isinstance(entry, dict) and _is_fc3(entry.get("component")):
                props = resolve_variables(entry.get("props"), variables)
                if isinstance(props, dict):
                    names.append(str(props.get("functionName") or ""))
    else:
        for entry in document["services"].values():
            if isinstance(entry, dict) and entry.get("component") == "fc":
                props = resolve_variables(entry.get("props"), variables)
                function = props.get("function") if isinstance(props, dict) else None
                service = props.get("service") if isinstance(props, dict) else None
                if (
                    isinstance(function, dict)
                    and isinstance(service, dict)
                    and str(service.get("name")) == template.service
                ):
                    names.append(str(function.get("name") or ""))
    return tuple(dict.fromkeys(name for name in names if name))
