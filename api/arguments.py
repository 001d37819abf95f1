"""Checks of a request's arguments before anything runs: one walk over the operation.

:class:`ArgumentChecks` is a strawberry extension that runs after validation (and
strawberry's ``ValidationCache``), over the parsed document and the request's raw
variables, so its answer depends on the variables without spoiling the cache:

* **operation name**: a document with several operations must name the one to run
  (``operationName``); strawberry would otherwise run the first (400, INVALID_INPUT);
* **text**: every string argument and input item must encode as UTF-8 (a lone UTF-16
  surrogate such as JSON ``"\\udc00"`` does not);
* **dates**: every ``DateTime`` argument and input item lies in the years
  :data:`MIN_YEAR` to :data:`MAX_YEAR`, the loaders' range
  (:data:`pricegraph.loaders.formats.MIN_YEAR`; a stored date outside would overflow
  when it is moved to UTC or formatted);
* **items**: the quotes and written items of every field of the operation, aliases
  and fragments included, add up to at most ``api.limits.max_request_items``, so a
  request over the limit does nothing at all.

Each refusal is an ``INVALID_INPUT`` error whose ``field`` is the argument's path in
GraphQL names, e.g. ``prices[0].validFrom``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    Node,
    NullValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
    get_named_type,
)
from strawberry.extensions import SchemaExtension

from ..loaders.formats import MAX_YEAR, MIN_YEAR
from ..loaders.value_rules import is_outside_date
from .errors import ErrorCode, quoted

REQUEST_ITEMS = "request_items"
"""Field metadata key: the argument whose list items a field quotes or writes (``""``:
the field is one item), counted against ``api.limits.max_request_items``."""
MAX_REPORTED = 10
"""Most argument errors one response lists."""
MULTIPLE_OPERATIONS = "Must provide operation name if query contains multiple operations."


def utf8_error(text: str) -> str | None:
    """Why ``text`` cannot be stored as UTF-8 (a lone surrogate), or ``None``."""
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"expected text that encodes as UTF-8, got a lone surrogate at {exc.start}"
    return None


def date_error(text: str, parse: Callable[[str], Any] = datetime.fromisoformat) -> str | None:
    """Why the ``DateTime`` ``text`` is refused (a year outside the range), or ``None``
    (also when it does not parse: the scalar reports that).

    Args:
        text: The value as sent.
        parse: The scalar's own parser, for the forms ``datetime.fromisoformat`` (tried
            first: it is fast) does not read.
    """
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = parse(text)
        except Exception:  # not a date-time: the scalar says so
            return None
    if not isinstance(moment, datetime):
        return None
    refused = f"expected a date-time in the years {MIN_YEAR} to {MAX_YEAR}, got {quoted(text)}"
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        return refused
    if moment.tzinfo is not None:  # the loaders store UTC: check the year there too
        try:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:
            return refused
    return refused if is_outside_date(moment) else None


class _Walk:
    """One operation's arguments, fragments once each (see the module docstring)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document_fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        defaults: Mapping[str, ValueNode | None],
        max_items: int,
    ) -> None:
        self.schema, self.fragments = schema, document_fragments
        self.variables, self.defaults, self.max_items = variables, defaults, max_items
        self.errors: list[GraphQLError] = []
        self.items = 0
        self._seen: set[str] = set()

    def selections(self, parent: Any, selection_set: SelectionSetNode) -> None:
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                self.field(parent, node)
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                self.selections(target, node.selection_set)
            elif isinstance(node, FragmentSpreadNode) and node.name.value not in self._seen:
                self._seen.add(node.name.value)
                fragment = self.fragments.get(node.name.value)
                if fragment is not None:
                    target = self.schema.get_type(fragment.type_condition.name.value)
                    self.selections(target, fragment.selection_set)

    def field(self, parent: Any, node: FieldNode) -> None:
        field_def: GraphQLField | None = getattr(parent, "fields", {}).get(node.name.value)
        if field_def is None:
            return
        given = {a.name.value: a.value for a in node.arguments or ()}
        if not self.count(field_def, node, given):  # over the limit: its items unread
            for name, value in given.items():
                argument = field_def.args.get(name)
                if argument is not None:
                    self.value(argument.type, value, name, node)
        if node.selection_set is not None:
            self.selections(get_named_type(field_def.type), node.selection_set)

    def count(self, field_def: GraphQLField, node: FieldNode, given: dict[str, Any]) -> bool:
        """Count the field's items; whether the request went over the limit with them."""
        definition = (field_def.extensions or {}).get("strawberry-definition")
        argument = getattr(definition, "metadata", {}).get(REQUEST_ITEMS)
        if argument is None:
            return False
        name = argument or node.name.value
        count = 1 if not argument else _length(self.resolve(given.get(argument)))
        over = self.items <= self.max_items < self.items + count
        self.items += count
        if over:
            self.report(
                name,
                f"this request asks for more than {self.max_items} quotes or written items "
                "in all (fields and aliases together); split it",
                node,
                self.items,
            )
        return self.items > self.max_items

    def resolve(self, value: Any) -> Any:
        """A variable's raw value (its default when not sent); other values as they are."""
        while isinstance(value, VariableNode):
            name = value.name.value
            value = self.variables[name] if name in self.variables else self.defaults.get(name)
        return value

    def value(self, type_: Any, value: Any, path: str, node: Node) -> None:
        value = self.resolve(value)
        if isinstance(type_, GraphQLNonNull):
            type_ = type_.of_type
        if value is None or isinstance(value, NullValueNode) or len(self.errors) >= MAX_REPORTED:
            return
        if isinstance(type_, GraphQLList):
            items = value.values if isinstance(value, ListValueNode) else value
            if not isinstance(items, list | tuple):  # one item where a list is expected
                self.value(type_.of_type, value, path, node)
                return
            for index, item in enumerate(items):
                self.value(type_.of_type, item, f"{path}[{index}]", node)
        elif isinstance(type_, GraphQLInputObjectType):
            for name, item in _object_items(value):
                field = type_.fields.get(name)
                if field is not None:
                    self.value(field.type, item, f"{path}.{name}", node)
        elif isinstance(type_, GraphQLScalarType):
            text = value.value if isinstance(value, StringValueNode) else value
            if not isinstance(text, str):
                return
            why = utf8_error(text)
            if why is None and type_.name == "DateTime":
                why = date_error(text, type_.parse_value)
            if why is not None:
                self.report(path, why, node, None if "surrogate" in why else text)

    def report(self, path: str, message: str, node: Node, value: Any) -> None:
        extensions: dict[str, Any] = {"code": ErrorCode.INVALID_INPUT.value, "field": path}
        if value is not None:
            extensions["value"] = value if isinstance(value, int) else quoted(str(value))
        self.errors.append(GraphQLError(f"{path}: {message}", node, extensions=extensions))


def _object_items(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, ObjectValueNode):
        yield from ((field.name.value, field.value) for field in value.fields)
    elif isinstance(value, dict):
        yield from value.items()


def _length(value: Any) -> int:
    if value is None or isinstance(value, NullValueNode):
        return 0
    if isinstance(value, ListValueNode):
        return len(value.values)
    return len(value) if isinstance(value, list) else 1


def check_arguments(
    schema: GraphQLSchema,
    document: Any,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    max_items: int,
) -> list[GraphQLError]:
    """The argument errors of the operation to run (module docstring); ``[]`` when none,
    and when the operation is not found (validation and execution report that)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        if len(operations) > 1:
            return [GraphQLError(MULTIPLE_OPERATIONS, extensions={"code": "INVALID_INPUT"})]
        operation = operations[0] if operations else None
    else:
        named = [op for op in operations if op.name and op.name.value == operation_name]
        operation = named[0] if named else None
    if operation is None:
        return []
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    defaults = {
        d.variable.name.value: d.default_value for d in operation.variable_definitions or ()
    }
    root = {
        "query": schema.query_type,
        "mutation": schema.mutation_type,
        "subscription": schema.subscription_type,
    }[operation.operation.value]
    walk = _Walk(schema, fragments, dict(variables or {}), defaults, max_items)
    walk.selections(root, operation.selection_set)
    return walk.errors


class ArgumentChecks(SchemaExtension):
    """Refuses a request whose arguments break the module docstring's rules before it
    runs; runs after validation (place it after ``ValidationCache``).

    Args:
        max_items: ``api.limits.max_request_items``.
    """

    def __init__(self, max_items: int) -> None:
        super().__init__()
        self.max_items = max_items

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and not context.pre_execution_errors:
            errors = check_arguments(
                context.schema._schema,
                document,
                context._provided_operation_name,  # operation_name falls back to the first
                context.variables,
                self.max_items,
            )
            if errors:
                context.pre_execution_errors = errors
                if errors[0].message == MULTIPLE_OPERATIONS:
                    response = getattr(context.context, "response", None)
                    if response is not None and hasattr(response, "status_code"):
                        response.status_code = 400
        yield


__all__ = [
    "MAX_YEAR",
    "MIN_YEAR",
    "REQUEST_ITEMS",
    "ArgumentChecks",
    "check_arguments",
    "date_error",
    "utf8_error",
]
