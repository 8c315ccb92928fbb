"""Stripe's contract, read at test time from the pinned ``stripe`` package's generated code.

The package is generated from Stripe's OpenAPI spec at exactly the pinned API version:
its services name each endpoint's method, path and typed params (TypedDicts), and its
resource classes annotate every field of every object. When the pin moves, so does this.

- ``request_problems(method, path, params)``: a decoded form request against the params
  TypedDict of its endpoint (known endpoint, known names, wire types, enum values,
  required names present).
- ``object_problems(obj, expanded)``: an API object (or list, or event) against its
  resource class (no unknown field, required fields present, types and enums right,
  expandable fields ids unless expanded, includable fields absent unless expanded).
"""

from __future__ import annotations

import ast
import functools
import importlib
import json
import pkgutil
import re
import types
import typing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, Union, get_args, get_origin

import stripe
import typing_extensions
from stripe._list_object import ListObject
from stripe._object_classes import OBJECT_CLASSES
from stripe._request_options import RequestOptions
from stripe._stripe_object import StripeObject, UntypedStripeObject

Obj = dict[str, Any]

#: The API version the contract describes.
API_VERSION: str = stripe.api_version

#: Includable fields that are not lists (lists of a resource are found from their type).
_INCLUDABLE_SCALARS = {
    ("customer", "cash_balance"),
    ("customer", "invoice_credit_balance"),
}
#: Request names that are client options, never sent as parameters.
_OPTIONS = frozenset(RequestOptions.__annotations__)
_NONE = type(None)


# -- reading the generated code ----------------------------------------------------------


def _namespace_of_options() -> dict[str, Any]:
    from stripe._stripe_context import StripeContext

    return {"StripeContext": StripeContext, "Mapping": typing.Mapping}


@functools.cache
def _namespace(module_name: str) -> dict[str, Any]:
    """A module's globals plus the names it imports only for type checking."""
    module = importlib.import_module(module_name)
    # Some generated annotations name helpers their module never imports.
    extra: dict[str, Any] = {
        "StripeObject": StripeObject,
        "ListObject": ListObject,
        "UntypedStripeObject": UntypedStripeObject,
        # Every params TypedDict inherits RequestOptions, whose hints name these.
        **_namespace_of_options(),
    }
    source = module.__file__
    assert source is not None
    with open(source, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    for node in tree.body:
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            for statement in node.body:
                if isinstance(statement, ast.ImportFrom) and statement.module:
                    source_module = importlib.import_module(statement.module)
                    for alias in statement.names:
                        extra[alias.asname or alias.name] = getattr(source_module, alias.name)
    return {**extra, **vars(module)}


@functools.cache
def fields_of(cls: type) -> dict[str, Any]:
    """The annotated fields of a resource class, a nested object class or a TypedDict."""
    hints = typing.get_type_hints(cls, globalns=_namespace(cls.__module__))
    return {
        name: hint
        for name, hint in hints.items()
        if not name.startswith("_")
        and name != "OBJECT_NAME"
        and get_origin(hint) is not typing.ClassVar
    }


def class_for(object_name: str) -> type[StripeObject] | None:
    """The resource class Stripe's ``object`` value names."""
    found = OBJECT_CLASSES.get(object_name)
    if found is None:
        return None
    cls: type[StripeObject] = getattr(importlib.import_module(found[0]), found[1])
    return cls


@dataclass(frozen=True)
class Endpoint:
    """One operation of the API as a service of the package declares it."""

    method: str
    template: str
    pattern: re.Pattern[str]
    params: type | None


def _services() -> Iterator[str]:
    for info in pkgutil.walk_packages(stripe.__path__, "stripe."):
        leaf = info.name.rsplit(".", 1)[-1]
        if leaf.endswith("_service") and ".v2" not in info.name and ".params" not in info.name:
            yield info.name


def _path_of(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and isinstance(node.func.value, ast.Constant)
    ):
        return str(node.func.value.value)
    return None


def _params_name(function: ast.FunctionDef) -> str | None:
    for arg in function.args.args:
        if arg.arg == "params" and arg.annotation is not None:
            text = ast.unparse(arg.annotation)
            match = re.search(r"[\"']?(\w+Params)[\"']?", text)
            return match.group(1) if match else None
    return None


@functools.cache
def endpoints() -> tuple[Endpoint, ...]:
    """Every v1 operation with its params TypedDict, read from the package's services."""
    found: dict[tuple[str, str], Endpoint] = {}
    for module_name in _services():
        module = importlib.import_module(module_name)
        assert module.__file__ is not None
        with open(module.__file__, encoding="utf-8") as handle:
            tree = ast.parse(handle.read())
        namespace = _namespace(module_name)
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef):
                continue
            for call in ast.walk(node):
                if not (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and call.func.attr == "_request"
                    and len(call.args) >= 2
                ):
                    continue
                method = call.args[0]
                template = _path_of(call.args[1])
                if not isinstance(method, ast.Constant) or template is None:
                    continue
                if not template.startswith("/v1/"):
                    continue
                params_name = _params_name(node)
                params = namespace.get(params_name) if params_name else None
                regex = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template))
                key = (str(method.value).upper(), template)
                found[key] = Endpoint(key[0], template, re.compile(f"^{regex}$"), params)
    return tuple(found.values())


def endpoint_for(method: str, path: str) -> Endpoint | None:
    """The operation a request names; a literal path segment beats a ``{placeholder}``."""
    matches = [
        endpoint
        for endpoint in endpoints()
        if endpoint.method == method.upper() and endpoint.pattern.match(path)
    ]
    if not matches:
        return None
    return min(matches, key=lambda endpoint: endpoint.template.count("{"))


# -- types -------------------------------------------------------------------------------


def _is_class(hint: Any, base: type) -> bool:
    return isinstance(hint, type) and issubclass(hint, base)


def _is_union(hint: Any) -> bool:
    return get_origin(hint) in (Union, types.UnionType)


def _literals(hint: Any) -> set[Any]:
    """Members of the ``Literal`` arms of ``hint``."""
    if get_origin(hint) is Literal:
        return set(get_args(hint))
    if _is_union(hint):
        return set().union(*(_literals(arm) for arm in get_args(hint)))
    return set()


def _is_typeddict(hint: Any) -> bool:
    return isinstance(hint, type) and typing_extensions.is_typeddict(hint)


def _optional(hint: Any) -> bool:
    return hint is Any or (_is_union(hint) and _NONE in get_args(hint))


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# -- objects -----------------------------------------------------------------------------


class _ObjectChecker:
    def __init__(self, expanded: Iterable[str]) -> None:
        self.expanded = set(expanded)
        self.problems: list[str] = []

    def is_expanded(self, path: str) -> bool:
        path = re.sub(r"\[\d+\]", "", path)
        return any(asked == path or asked.startswith(path + ".") for asked in self.expanded)

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"{path or '<root>'}: {message}")

    def resource(self, obj: Any, path: str) -> None:
        """A top-level object, list or event, whose class its ``object`` names."""
        if not isinstance(obj, dict):
            self.fail(path, f"expected an object, got {_describe(obj)}")
            return
        kind = obj.get("object")
        if kind == "list":
            self.list_object(obj, path, None)
            return
        cls = class_for(str(kind))
        if cls is None:
            self.fail(path, f"unknown object type {kind!r}")
            return
        self.stripe_object(obj, cls, path)

    def list_object(self, obj: Obj, path: str, item: Any) -> None:
        unknown = set(obj) - {"object", "data", "has_more", "url"}
        if unknown:
            self.fail(path, f"unknown list fields {sorted(unknown)}")
        if not isinstance(obj.get("data"), list) or not isinstance(obj.get("has_more"), bool):
            self.fail(path, "a list needs data (array) and has_more (boolean)")
            return
        if not isinstance(obj.get("url"), str):
            self.fail(path, "a list needs its url")
        for index, element in enumerate(obj["data"]):
            where = f"{path}.data" if path else "data"
            if item is None:
                self.resource(element, where)
            else:
                self.value(element, item, where, f"[{index}]")

    def stripe_object(self, obj: Obj, cls: type, path: str) -> None:
        fields = fields_of(cls)
        name = getattr(cls, "OBJECT_NAME", None)
        if obj.get("deleted") is True and "deleted" in fields:
            # A deleted object is only its id, its type and the flag.
            extra = sorted(set(obj) - {"id", "object", "deleted"})
            if extra:
                self.fail(path, f"a deleted {name} carries only id and object, not {extra}")
            return
        if name is not None and obj.get("object") != name:
            self.fail(path, f"object should be {name!r}, is {_describe(obj.get('object'))}")
        for key in obj:
            if key not in fields:
                self.fail(_join(path, key), "not a field of " + cls.__qualname__)
        for key, hint in fields.items():
            where = _join(path, key)
            if self.includable(cls, key, hint):
                if key in obj and not self.is_expanded(where):
                    self.fail(where, "includable: Stripe sends it only when expanded")
                elif key not in obj and self.is_expanded(where):
                    self.fail(where, "expanded but missing")
                if key not in obj:
                    continue
            elif key not in obj:
                if not _optional(hint):
                    self.fail(where, "required field missing")
                continue
            self.value(obj[key], hint, where)
        if name == "event":
            data = obj.get("data")
            if isinstance(data, dict):
                inner = data.get("object")
                if isinstance(inner, dict):
                    # An event carries its object as retrieving it unexpanded would.
                    checker = _ObjectChecker(())
                    checker.resource(inner, "")
                    self.problems.extend(
                        f"{_join(path, 'data.object')}.{p}" for p in checker.problems
                    )

    @staticmethod
    def includable(cls: type, key: str, hint: Any) -> bool:
        name = getattr(cls, "OBJECT_NAME", None)
        if name is None:
            return False
        if (name, key) in _INCLUDABLE_SCALARS:
            return True
        arms = [arm for arm in get_args(hint) if arm is not _NONE] if _is_union(hint) else []
        # A resource's nullable list of other resources is one Stripe includes on request.
        return len(arms) == 1 and get_origin(arms[0]) is ListObject

    def value(self, value: Any, hint: Any, path: str, index: str = "") -> None:
        where = path + index
        if hint is Any:
            return
        origin = get_origin(hint)
        if _is_union(hint):
            self.union(value, hint, path, index)
            return
        if origin is Literal:
            if isinstance(value, dict | list) or value not in get_args(hint):
                self.fail(
                    where, f"{_describe(value)} is not one of {sorted(map(str, get_args(hint)))}"
                )
            return
        if value is None:
            self.fail(where, "null where the type is not nullable")
            return
        if hint is bool:
            if not isinstance(value, bool):
                self.fail(where, f"expected a boolean, got {_describe(value)}")
        elif hint is int:
            if not isinstance(value, int) or isinstance(value, bool):
                self.fail(where, f"expected an integer, got {_describe(value)}")
        elif hint is float:
            if not isinstance(value, int | float) or isinstance(value, bool):
                self.fail(where, f"expected a number, got {_describe(value)}")
        elif hint is str:
            if not isinstance(value, str):
                self.fail(where, f"expected a string, got {_describe(value)}")
        elif hint is Decimal:
            if not _decimal(value):
                self.fail(where, f"expected a decimal string, got {_describe(value)}")
        elif origin in (list, typing.List):  # noqa: UP006 - the generated code spells List
            if not isinstance(value, list):
                self.fail(where, f"expected an array, got {_describe(value)}")
                return
            (item,) = get_args(hint) or (Any,)
            for position, element in enumerate(value):
                self.value(element, item, path, f"{index}[{position}]")
        elif origin in (dict, typing.Dict) or _is_class(origin or hint, UntypedStripeObject):  # noqa: UP006
            if not isinstance(value, dict):
                self.fail(where, f"expected a hash, got {_describe(value)}")
                return
            args = get_args(hint)
            item = args[-1] if args else Any
            for key, element in value.items():
                self.value(element, item, _join(where, str(key)))
        elif origin is ListObject or hint is ListObject:
            if not isinstance(value, dict) or value.get("object") != "list":
                self.fail(where, f"expected a list object, got {_describe(value)}")
                return
            args = get_args(hint)
            self.list_object(value, where, args[0] if args else None)
        elif _is_class(hint, StripeObject):
            if not isinstance(value, dict):
                self.fail(where, f"expected a {hint.__qualname__} hash, got {_describe(value)}")
                return
            self.stripe_object(value, hint, where)
        else:
            self.fail(where, f"the contract does not know the type {hint!r}")

    def union(self, value: Any, hint: Any, path: str, index: str) -> None:
        where = path + index
        arms = [arm for arm in get_args(hint) if arm is not _NONE]
        if value is None:
            if _NONE not in get_args(hint):
                self.fail(where, "null where the type is not nullable")
            return
        literals = _literals(hint)
        if literals and str in arms:
            # ``Literal[...] | str`` is the package's escape for values newer than it; the
            # contract at this version is the listed ones.
            if not isinstance(value, str) or value not in literals:
                self.fail(where, f"{_describe(value)} is not one of {sorted(map(str, literals))}")
            return
        resources = [
            arm for arm in arms if _is_class(arm, StripeObject) and hasattr(arm, "OBJECT_NAME")
        ]
        if str in arms and resources:
            # An expandable field: the id unless the request asked to expand it.
            if isinstance(value, str):
                return
            if not self.is_expanded(where):
                self.fail(where, "expanded although the request did not ask for it")
            if not isinstance(value, dict):
                self.fail(where, f"expected an id or an object, got {_describe(value)}")
                return
        if resources and isinstance(value, dict):
            named = [arm for arm in resources if value.get("object") == arm.OBJECT_NAME]
            if named:
                self.stripe_object(value, named[0], where)
            else:
                names = [arm.OBJECT_NAME for arm in resources]
                self.fail(where, f"object {_describe(value.get('object'))} is none of {names}")
            return
        best: list[str] | None = None
        for arm in arms:
            trial = _ObjectChecker(self.expanded)
            trial.value(value, arm, path, index)
            if not trial.problems:
                return
            if best is None or len(trial.problems) < len(best):
                best = trial.problems
        self.problems.extend(best or [f"{where}: matches no arm of {hint!r}"])


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _decimal(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        Decimal(value)
    except InvalidOperation:
        return False
    return True


def object_problems(obj: Any, expanded: Iterable[str] = ()) -> list[str]:
    """What in ``obj`` (an object, list or event as Stripe answers it) breaks the contract.

    ``expanded`` are the request's ``expand[]`` paths; for a list they start at ``data``.
    """
    checker = _ObjectChecker(expanded)
    checker.resource(obj, "")
    return checker.problems


# -- requests ----------------------------------------------------------------------------


def request_problems(method: str, path: str, params: Obj) -> list[str]:
    """What in a request (form-decoded: strings, lists and hashes) breaks the contract."""
    endpoint = endpoint_for(method, path)
    if endpoint is None:
        return [f"{method} {path}: no such endpoint at {API_VERSION}"]
    if endpoint.params is None:
        return [] if not params else [f"{method} {path}: takes no parameters"]
    problems: list[str] = []
    _typeddict(params, endpoint.params, "", problems, top=True)
    return [f"{method} {endpoint.template}: {problem}" for problem in problems]


def _typeddict(value: Any, cls: type, name: str, problems: list[str], *, top: bool = False) -> None:
    if not isinstance(value, dict):
        problems.append(f"{name}: expected a hash, got {_describe(value)}")
        return
    hints = typing.get_type_hints(cls, globalns=_namespace(cls.__module__))
    if top:
        hints = {key: hint for key, hint in hints.items() if key not in _OPTIONS}
    for key, element in value.items():
        where = f"{name}[{key}]" if name else key
        if key not in hints:
            problems.append(f"{where}: unknown parameter")
            continue
        _param(element, hints[key], where, problems)
    required: frozenset[str] = getattr(cls, "__required_keys__", frozenset())
    for key in sorted(required - set(value) - _OPTIONS):
        problems.append(f"{f'{name}[{key}]' if name else key}: required parameter missing")


def _param(value: Any, hint: Any, name: str, problems: list[str]) -> None:
    origin = get_origin(hint)
    if origin is typing.NotRequired or origin is typing.Required:
        hint = get_args(hint)[0]
        origin = get_origin(hint)
    if hint is Any:
        return
    if _is_union(hint) or origin is Literal:
        literals = _literals(hint)
        arms = [arm for arm in get_args(hint) if arm is not _NONE] if _is_union(hint) else [hint]
        others = [arm for arm in arms if get_origin(arm) is not Literal]
        if isinstance(value, str) and (value in literals or (literals == {""} and others == [str])):
            return  # "Literal['']|str" is any string, the empty one unsetting the field
        if literals and (not others or others == [str]):
            allowed = sorted(str(item) for item in literals)
            problems.append(f"{name}: {_describe(value)} is not one of {allowed}")
            return
        trials = []
        for arm in others:
            trial: list[str] = []
            _param(value, arm, name, trial)
            if not trial:
                return
            trials.append(trial)
        problems.extend(min(trials, key=len) if trials else [f"{name}: no type accepts it"])
        return
    if _is_typeddict(hint):
        _typeddict(value, hint, name, problems)
    elif origin in (list, typing.List):  # noqa: UP006
        if not isinstance(value, list):
            problems.append(f"{name}: expected an array, got {_describe(value)}")
            return
        (item,) = get_args(hint) or (Any,)
        for position, element in enumerate(value):
            _param(element, item, f"{name}[{position}]", problems)
    elif origin in (dict, typing.Dict) or _is_class(origin or hint, UntypedStripeObject):  # noqa: UP006
        if not isinstance(value, dict):
            problems.append(f"{name}: expected a hash, got {_describe(value)}")
            return
        args = get_args(hint)
        for key, element in value.items():
            _param(element, args[-1] if args else Any, f"{name}[{key}]", problems)
    elif not isinstance(value, str):
        problems.append(f"{name}: expected a form value, got {_describe(value)}")
    elif hint is str:
        return
    elif hint is int:
        if not re.fullmatch(r"-?\d+", value):
            problems.append(f"{name}: {_describe(value)} is not an integer")
    elif hint is bool:
        if value not in ("true", "false"):
            problems.append(f"{name}: {_describe(value)} is not a boolean")
    elif hint is float or hint is Decimal:
        if not _decimal(value):
            problems.append(f"{name}: {_describe(value)} is not a number")
    else:
        problems.append(f"{name}: the contract does not know the type {hint!r}")


# -- a sandbox's traffic -----------------------------------------------------------------


class _Exchange(typing.Protocol):
    method: str
    path: str
    params: Obj
    status: int
    body: str
    expand: tuple[str, ...]


class _State(typing.Protocol):
    @property
    def exchanges(self) -> list[Any]: ...

    @property
    def events(self) -> list[Obj]: ...


def traffic_problems(state: _State) -> list[str]:
    """What a sandbox accepted or answered that Stripe would not: every answered request,
    its answer, and every event.

    Refused requests (4xx) are the sandbox doing its job and are not held to the contract.
    """
    problems: list[str] = []
    for exchange in state.exchanges:
        if not 200 <= exchange.status < 300:
            continue
        where = f"{exchange.method} {exchange.path}"
        problems.extend(request_problems(exchange.method, exchange.path, exchange.params))
        answer = json.loads(exchange.body)
        problems.extend(f"{where} answered: {p}" for p in object_problems(answer, exchange.expand))
    for event in state.events:
        problems.extend(f"event {event.get('type')}: {p}" for p in object_problems(event))
    return problems


def assert_traffic_keeps_contract(state: _State) -> None:
    """Fail with every way a sandbox's traffic broke Stripe's contract (fixture teardown)."""
    problems = traffic_problems(state)
    if problems:
        shown = "\n  ".join(dict.fromkeys(problems))
        raise AssertionError(f"Stripe's contract at {API_VERSION} was broken:\n  {shown}")
