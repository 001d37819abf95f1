"""Query limits: depth, tokens, aliases and an estimated cost, checked before execution.

strawberry has no cost limit, so :func:`cost_rule` adds a validation rule: each field
costs the product of the page sizes above it (``first`` / ``limit`` arguments; a
variable counts as the largest page, an absent one as the field's default), so
``products(first: 100) { edges { node { similar... } } }`` costs what it would fetch.
Rules are built once per schema, so strawberry's ``ValidationCache`` keeps working.
"""

from __future__ import annotations

from collections.abc import Callable
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
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)

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


def query_cost(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    max_page: int,
) -> int:
    """Estimated field resolutions of ``operation`` (see the module docstring)."""
    root = {
        "query": schema.query_type,
        "mutation": schema.mutation_type,
        "subscription": schema.subscription_type,
    }[operation.operation.value]

    def walk(parent: Any, selections: SelectionSetNode, factor: int, seen: tuple[str, ...]) -> int:
        cost = 0
        for node in selections.selections:
            if isinstance(node, FieldNode):
                name = node.name.value
                fields = getattr(parent, "fields", {}) if parent is not None else {}
                field_def = fields.get(name)
                cost += factor
                if node.selection_set is None or name.startswith("__"):
                    continue
                child = get_named_type(field_def.type) if field_def is not None else None
                if not isinstance(child, GraphQLObjectType | GraphQLInterfaceType):
                    child = None
                cost += walk(
                    child, node.selection_set, factor * _page(node, field_def, max_page), seen
                )
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition
                target = schema.get_type(condition.name.value) if condition else parent
                cost += walk(target, node.selection_set, factor, seen)
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                fragment = fragments.get(name)
                if fragment is None or name in seen:  # other rules report these
                    continue
                target = schema.get_type(fragment.type_condition.name.value)
                cost += walk(target, fragment.selection_set, factor, (*seen, name))
        return cost

    return walk(root, operation.selection_set, 1, ())


def cost_rule(max_cost: int, max_page: int) -> type[ValidationRule]:
    """A validation rule refusing operations whose :func:`query_cost` exceeds ``max_cost``."""

    class CostLimit(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            document = context.document
            fragments = {
                d.name.value: d
                for d in document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            for definition in document.definitions:
                if not isinstance(definition, OperationDefinitionNode):
                    continue
                cost = query_cost(context.schema, definition, fragments, max_page)
                if cost > max_cost:
                    name = definition.name.value if definition.name else "anonymous"
                    context.report_error(
                        GraphQLError(
                            f"operation '{name}' costs about {cost} field resolutions; the "
                            f"limit is {max_cost}: ask for smaller pages (first) or fewer "
                            "nested lists",
                            definition,
                            extensions={"code": "INVALID_INPUT", "cost": cost, "limit": max_cost},
                        )
                    )

    return CostLimit


def limit_extensions(limits: ApiLimits) -> list[Callable[[], Any]]:
    """Extension factories enforcing ``limits`` (validation rules built once)."""
    rules = [
        *QueryDepthLimiter(max_depth=limits.max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=limits.max_aliases).validation_rules,
        cost_rule(limits.max_cost, limits.max_page_size),
    ]
    return [
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
        lambda: AddValidationRules(rules),
    ]


__all__ = ["cost_rule", "limit_extensions", "query_cost"]
