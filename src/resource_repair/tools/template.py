"""Read the Serverless Devs template (``template.yml``) the way ``s`` resolves it."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import yaml

from resource_repair.errors import ResourceRepairError

_VARIABLE = re.compile(r"\$\{vars\.([A-Za-z0-9_]+)\}")


class TemplateError(ResourceRepairError, ValueError):
    """The template cannot be read or lacks what the tool needs."""


@dataclasses.dataclass(frozen=True)
class FunctionTemplate:
    """The parts of the template's one FC service that the tools use, variables resolved."""

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
    """The component's whole ``props`` block, as the ``fc`` schema validates it."""


def load_template(path: str | Path) -> FunctionTemplate:
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise TemplateError(f"cannot read template {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise TemplateError(f"template {path} is not valid YAML: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("services"), dict):
        raise TemplateError(f"template {path} has no services")
    variables = document.get("vars") or {}
    fc_services = [
        s
        for s in document["services"].values()
        if isinstance(s, dict) and s.get("component") == "fc"
    ]
    if len(fc_services) != 1:
        raise TemplateError(f"template {path} must have exactly one service of component fc")
    props = resolve_variables(fc_services[0].get("props") or {}, variables)
    try:
        function = props["function"]
        return FunctionTemplate(
            region=str(props["region"]),
            service=str(props["service"]["name"]),
            function=str(function["name"]),
            handler=str(function["handler"]),
            runtime=str(function["runtime"]),
            code_uri=str(function["codeUri"]),
            timeout=int(function.get("timeout", 60)),
            environment={
                str(k): str(v) for k, v in (function.get("environmentVariables") or {}).items()
            },
            variables=dict(variables),
            props=props,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise TemplateError(f"template {path} lacks a function setting: {exc}") from None


def resolve_variables(value: Any, variables: dict[str, Any]) -> Any:
    """Replace ``${vars.name}`` everywhere, as Serverless Devs does before deploying."""
    if isinstance(value, dict):
        return {k: resolve_variables(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_variables(v, variables) for v in value]
    if isinstance(value, str):

        def lookup(match: re.Match[str]) -> str:
            name = match[1]
            if name not in variables:
                raise TemplateError(f"${{vars.{name}}} is used but not defined under vars")
            return str(variables[name])

        return _VARIABLE.sub(lookup, value)
    return value
