"""Query limits: depth, tokens, aliases and an estimated cost, checked before execution.

One validation rule, :func:`limits_rule`, measures depth, aliases and cost in a single
pass that is linear in the document: each fragment is measured once per parent type
and its result reused wherever it is spread (memoised), and every count saturates at
``2**62``, so a small document whose fragments spread each other many times (an
exponential expansion) takes the time its text takes, not what it expands to.

* **depth**: fields with a selection below one another (introspection fields aside),
  as strawberry's ``QueryDepthLimiter`` counts them;
* **aliases**: aliased fields of the expanded operations, as ``MaxAliasesLimiter``;
* **cost**: each field costs the product of the page sizes above it (``first`` /
  ``limit`` arguments; a variable counts as the largest page, an absent one as the
  field's default), so ``products(first: 100) { edges { node { similar... } } }``
  costs what it would fetch.

Tokens are counted by strawberry's ``MaxTokensLimiter`` while parsing. Rules are built
once per schema, so strawberry's ``ValidationCache`` keeps working.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
    get_named_type,
)
from strawberry.extensions import AddValidationRules, MaxTokensLimiter

from .config import ApiLimits

PAGE_ARGUMENTS = ("first", "limit")


def _page(node: FieldNode, field_def: Any, max_page: int) -> int:
    for argument in node.arguments or ():
        if argument.name.value in PAGE_ARGUMENTS:
            if isinstance(argument.value, IntValueNode):
                return max(1, int(argument.value.value))
            if isinstance(argument.value, VariableNode):
                return max_page
            return 1
    for name in PAGE_ARGUMENTS:
        arg = field_def.args.get(name) if field_def is not None else None
        if arg is not None:
            default = arg.default_value
            return default if isinstance(default, int) and default > 0 else max_page
    return 1


@dataclass(frozen=True)
class Measure:
    """What a selection expands to; every count saturates at the analyser's ``cap``."""

    depth: int
    """Fields with a selection nested below one another."""
    aliases: int
    """Aliased fields."""
    cost: int
    """Field resolutions at a page factor of 1 (scales linearly with the factor)."""


class DocumentMeasure:
    """Measures operations of one document, each fragment once per parent type.

    Args:
        schema: The schema (field types and page-argument defaults).
        fragments: The document's fragments by name.
        max_page: The page size a variable ``first`` counts as.
        cap: Counts saturate at this value (they grow exponentially with nested spreads).
    """

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        max_page: int,
        cap: int,
    ) -> None:
        self.schema, self.fragments, self.max_page, self.cap = schema, fragments, max_page, cap
        self._memo: dict[tuple[str, str], Measure] = {}
        self._open: set[str] = set()  # fragments being measured (cycles: other rules)

    def operation(self, operation: OperationDefinitionNode) -> Measure:
        """The measure of one operation."""
        root = {
            "query": self.schema.query_type,
            "mutation": self.schema.mutation_type,
            "subscription": self.schema.subscription_type,
        }[operation.operation.value]
        return self._selections(root, operation.selection_set)

    def _selections(self, parent: Any, selections: SelectionSetNode) -> Measure:
        cap = self.cap
        depth = aliases = cost = 0
        for node in selections.selections:
            if isinstance(node, FieldNode):
                part = self._field(parent, node)
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                part = self._selections(target, node.selection_set)
            elif isinstance(node, FragmentSpreadNode):
                part = self._spread(node.name.value)
            else:  # pragma: no cover - the grammar has no other selection
                continue
            depth = max(depth, part.depth)
            aliases = min(cap, aliases + part.aliases)
            cost = min(cap, cost + part.cost)
        return Measure(depth, aliases, cost)

    def _field(self, parent: Any, node: FieldNode) -> Measure:
        name = node.name.value
        is_aliased = int(node.alias is not None)
        if node.selection_set is None or name.startswith("__"):
            return Measure(0, is_aliased, 1)
        fields = getattr(parent, "fields", {}) if parent is not None else {}
        field_def = fields.get(name)
        child = get_named_type(field_def.type) if field_def is not None else None
        if not isinstance(child, GraphQLObjectType | GraphQLInterfaceType):
            child = None
        inner = self._selections(child, node.selection_set)
        page = _page(node, field_def, self.max_page)
        return Measure(
            min(self.cap, 1 + inner.depth),
            min(self.cap, is_aliased + inner.aliases),
            min(self.cap, 1 + page * inner.cost),
        )

    def _spread(self, name: str) -> Measure:
        fragment = self.fragments.get(name)
        if fragment is None or name in self._open:  # unknown or cyclic: other rules report
            return Measure(0, 0, 0)
        key = (name, fragment.type_condition.name.value)
        found = self._memo.get(key)
        if found is None:
            self._open.add(name)
            target = self.schema.get_type(fragment.type_condition.name.value)
            found = self._selections(target, fragment.selection_set)
            self._open.discard(name)
            self._memo[key] = found
        return found


def query_cost(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    max_page: int,
    cap: int = 2**62,
) -> int:
    """Estimated field resolutions of ``operation`` (see the module docstring), at most
    ``cap``."""
    return DocumentMeasure(schema, fragments, max_page, cap).operation(operation).cost


def limits_rule(
    max_depth: int, max_aliases: int, max_cost: int, max_page: int
) -> type[ValidationRule]:
    """A validation rule refusing operations deeper than ``max_depth``, documents with more
    than ``max_aliases`` aliased fields, and operations whose cost exceeds ``max_cost``
    (module docstring); each error has ``extensions.code`` ``INVALID_INPUT``."""
    cap = 2**62  # counts saturate here: memoised, they never take long, only grow big

    class Limits(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            document = context.document
            fragments = {
                d.name.value: d
                for d in document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            measure = DocumentMeasure(context.schema, fragments, max_page, cap)
            aliases = 0
            for definition in document.definitions:
                if not isinstance(definition, OperationDefinitionNode):
                    continue
                found = measure.operation(definition)
                aliases = min(cap, aliases + found.aliases)
                name = definition.name.value if definition.name else "anonymous"
                if found.depth > max_depth:
                    context.report_error(
                        _error(
                            f"'{name}' exceeds maximum operation depth of {max_depth}",
                            definition,
                            depth=found.depth,
                            limit=max_depth,
                        )
                    )
                if found.cost > max_cost:
                    about = f"about {found.cost}" if found.cost < cap else f"more than {max_cost}"
                    context.report_error(
                        _error(
                            f"operation '{name}' costs {about} field resolutions; the limit "
                            f"is {max_cost}: ask for smaller pages (first) or fewer nested "
                            "lists",
                            definition,
                            cost=found.cost,
                            limit=max_cost,
                        )
                    )
            if aliases > max_aliases:
                many = f"{aliases}" if aliases < cap else f"more than {max_aliases}"
                context.report_error(
                    _error(
                        f"{many} aliases found. Allowed: {max_aliases}",
                        None,
                        aliases=aliases,
                        limit=max_aliases,
                    )
                )

    return Limits


def _error(message: str, node: Any, **facts: int) -> GraphQLError:
    return GraphQLError(message, node, extensions={"code": "INVALID_INPUT", **facts})


def limit_extensions(limits: ApiLimits) -> list[Callable[[], Any]]:
    """Extension factories enforcing ``limits`` (validation rules built once)."""
    rules = [
        limits_rule(limits.max_depth, limits.max_aliases, limits.max_cost, limits.max_page_size)
    ]
    return [
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
        lambda: AddValidationRules(rules),
    ]


__all__ = ["DocumentMeasure", "Measure", "limit_extensions", "limits_rule", "query_cost"]
