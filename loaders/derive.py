"""Derived columns: a canonical value computed from the file's columns, declared in the
mapping (``[files.derive]``, ``--derive``) so that no preparation step is needed.

An expression is parsed once (a small recursive-descent parser; nothing is passed to
``eval``) and evaluated column-wise on the whole file. The grammar::

    expr   := term (("+" | "-") term)*
    term   := unary (("*" | "/") unary)*
    unary  := "-" unary | atom
    atom   := NUMBER | STRING | COLUMN | NAME "(" [expr ("," expr)*] ")" | "(" expr ")"
    COLUMN := a bare name (letters, digits, ``_``, ``.``) or any name in backquotes: `Sales Value`
    STRING := 'text' or "text" (a backslash escapes the quote)

Functions:

* ``concat(a, b, ...)``: the values as text, joined; missing when any part is missing
  (a category id must not silently become ``"GROCERY/"``; use ``coalesce`` to allow it).
* ``coalesce(a, b, ...)``: the first value that is present.
* ``lower(a)``, ``upper(a)``, ``trim(a)``: text.
* ``abs(a)``, ``round(a, digits)``: numbers.

``+ - * /`` work on numbers: a column's text is read as a number (an empty value is
missing, and a missing input makes the result missing). A value that is not a number,
and a division by zero, make the row's derived field *bad*: the row is rejected with
the file, line, field, the inputs and the reason, like any other bad value. Examples::

    [files.derive]
    name = "concat(COMMODITY_DESC, ' ', CURR_SIZE_OF_PRODUCT)"
    category_id = "concat(DEPARTMENT, '/', COMMODITY_DESC)"
    unit_price = "(SALES_VALUE - COUPON_DISC) / QUANTITY"
    brand_id = "upper(trim(MANUFACTURER))"
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
    | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    | (?P<quoted>`[^`]+`)
    | (?P<name>[A-Za-z_][A-Za-z0-9_.]*)
    | (?P<op>[-+*/(),])
    )""",
    re.VERBOSE,
)

FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "concat": (1, None),
    "coalesce": (1, None),
    "lower": (1, 1),
    "upper": (1, 1),
    "trim": (1, 1),
    "abs": (1, 1),
    "round": (1, 2),
}
"""Function name -> (fewest, most arguments; ``None``: any number)."""


@dataclass(frozen=True)
class Node:
    """One node of a parsed expression.

    Attributes:
        op: ``num``, ``str``, ``col``, ``neg``, ``+``, ``-``, ``*``, ``/`` or a function name.
        value: The literal (``num``, ``str``) or the column name (``col``).
        args: Operands.
    """

    op: str
    value: object = None
    args: tuple[Node, ...] = ()

    def columns(self) -> list[str]:
        """The file columns the expression reads, in order of appearance, once each."""
        found = [str(self.value)] if self.op == "col" else []
        for arg in self.args:
            found += [c for c in arg.columns() if c not in found]
        return found


@dataclass
class _Parser:
    text: str
    tokens: list[tuple[str, str, int]] = field(default_factory=list)
    at: int = 0

    def __post_init__(self) -> None:
        position = 0
        while position < len(self.text):
            if not self.text[position:].strip():
                break
            match = _TOKEN.match(self.text, position)
            if match is None or match.end() == position:
                start = len(self.text) - len(self.text[position:].lstrip())
                raise self.error(f"unexpected {self.text[start]!r}", start)
            kind = match.lastgroup or ""
            self.tokens.append((kind, match.group(kind), match.start(kind)))
            position = match.end()

    def error(self, message: str, position: int | None = None) -> ValueError:
        if position is None:
            position = self.tokens[self.at][2] if self.at < len(self.tokens) else len(self.text)
        return ValueError(f"{message} at character {position + 1}")

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, text: str) -> bool:
        token = self.peek()
        if token is not None and token[0] == "op" and token[1] == text:
            self.at += 1
            return True
        return False

    def parse(self) -> Node:
        if not self.tokens:
            raise self.error("empty expression", 0)
        node = self.expr()
        if self.peek() is not None:
            raise self.error(f"unexpected {self.peek()[1]!r}")  # type: ignore[index]
        return node

    def expr(self) -> Node:
        node = self.term()
        while (token := self.peek()) is not None and token[1] in ("+", "-") and token[0] == "op":
            self.at += 1
            node = Node(token[1], args=(node, self.term()))
        return node

    def term(self) -> Node:
        node = self.unary()
        while (token := self.peek()) is not None and token[1] in ("*", "/") and token[0] == "op":
            self.at += 1
            node = Node(token[1], args=(node, self.unary()))
        return node

    def unary(self) -> Node:
        if self.take("-"):
            return Node("neg", args=(self.unary(),))
        return self.atom()

    def atom(self) -> Node:
        token = self.peek()
        if token is None:
            raise self.error("expression ends too early")
        kind, text, _ = token
        self.at += 1
        if kind == "number":
            return Node("num", float(text))
        if kind == "string":
            return Node("str", re.sub(r"\\(.)", r"\1", text[1:-1]))
        if kind == "quoted":
            return Node("col", text[1:-1])
        if kind == "name":
            if not self.take("("):
                return Node("col", text)
            return self.call(text.lower(), token[2])
        if text == "(":
            node = self.expr()
            if not self.take(")"):
                raise self.error("expected ')'")
            return node
        self.at -= 1
        raise self.error(f"unexpected {text!r}")

    def call(self, name: str, position: int) -> Node:
        if name not in FUNCTIONS:
            raise self.error(f"unknown function {name!r} (known: {', '.join(FUNCTIONS)})", position)
        args: list[Node] = []
        if not self.take(")"):
            args.append(self.expr())
            while self.take(","):
                args.append(self.expr())
            if not self.take(")"):
                raise self.error("expected ',' or ')'")
        fewest, most = FUNCTIONS[name]
        if len(args) < fewest or (most is not None and len(args) > most):
            wanted = str(fewest) if fewest == most else f"{fewest} to {most or 'any number'}"
            raise self.error(f"{name}() takes {wanted} arguments, got {len(args)}", position)
        return Node(name, args=tuple(args))


def parse_expression(text: str) -> Node:
    """Parse ``text``; :class:`ValueError` says what is wrong and at which character."""
    node = _Parser(text).parse()
    _check_numbers(node)
    return node


def _check_numbers(node: Node) -> None:
    """Refuse text literals where a number is computed: ``'a' * 2``."""
    if node.op in ("neg", "+", "-", "*", "/", "abs", "round"):
        for arg in node.args:
            if arg.op == "str":
                raise ValueError(f"text {arg.value!r} used as a number in {node.op!r}")
    if node.op == "round" and len(node.args) == 2 and node.args[1].op != "num":
        raise ValueError("round(): the number of digits must be a number")
    for arg in node.args:
        _check_numbers(arg)


@dataclass(frozen=True)
class Derived:
    """A column computed by :func:`evaluate`.

    Attributes:
        values: One value per row (``float`` for arithmetic, ``object`` text otherwise;
            missing is ``NaN`` / ``None``).
        bad: Rows whose value could not be computed.
        reasons: Why, per row (empty where not bad).
    """

    values: pd.Series
    bad: np.ndarray
    reasons: pd.Series


class _Eval:
    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.bad = np.zeros(len(frame), bool)
        self.reasons = pd.Series("", index=frame.index, dtype=object)

    def fail(self, mask: np.ndarray, reason: str) -> None:
        new = mask & ~self.bad
        self.reasons[new] = reason
        self.bad |= mask

    def text(self, node: Node) -> pd.Series:
        if node.op == "str":
            return pd.Series(str(node.value), index=self.frame.index, dtype=object)
        if node.op == "col":
            return _as_text(self.frame[str(node.value)])
        if node.op in ("concat", "coalesce", "lower", "upper", "trim"):
            parts = [self.text(arg) for arg in node.args]
            if node.op == "concat":
                out = parts[0].astype(object)
                for part in parts[1:]:
                    out = out + part
                return out.where(pd.concat(parts, axis=1).notna().all(axis=1), None)
            if node.op == "coalesce":
                out = parts[0]
                for part in parts[1:]:
                    out = out.where(out.notna(), part)
                return out
            method = {"lower": "lower", "upper": "upper", "trim": "strip"}[node.op]
            result = getattr(parts[0].astype("string").str, method)()
            result = result.mask(result == "")
            return result.astype(object).where(result.notna(), None)
        return _as_text(self.number(node))

    def number(self, node: Node) -> pd.Series:
        index = self.frame.index
        if node.op == "num":
            return pd.Series(float(node.value), index=index)  # type: ignore[arg-type]
        if node.op == "str":
            text = pd.Series(str(node.value), index=index, dtype=object)
            number = pd.to_numeric(text, errors="coerce")
            self.fail(number.isna().to_numpy(), f"{node.value!r} is not a number")
            return number.astype("float64")
        if node.op == "col":
            raw = self.frame[str(node.value)]
            if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
                return raw.astype("float64")
            text = _as_text(raw)
            number = pd.to_numeric(text, errors="coerce")  # "1,5" is refused, not read as 15
            self.fail((text.notna() & number.isna()).to_numpy(), f"{node.value} is not a number")
            return number.astype("float64")
        if node.op == "coalesce":
            parts = [self.number(arg) for arg in node.args]
            out = parts[0]
            for part in parts[1:]:
                out = out.where(out.notna(), part)
            return out
        if node.op in ("concat", "lower", "upper", "trim"):
            text = self.text(node)
            number = pd.to_numeric(text, errors="coerce")
            self.fail((text.notna() & number.isna()).to_numpy(), f"{node.op}() is not a number")
            return number.astype("float64")
        args = [self.number(arg) for arg in node.args]
        if node.op == "neg":
            return -args[0]
        if node.op == "abs":
            return args[0].abs()
        if node.op == "round":
            digits = node.args[1].value if len(node.args) == 2 else 0
            return args[0].round(int(digits))  # type: ignore[call-overload]
        left, right = args
        if node.op == "+":
            return left + right
        if node.op == "-":
            return left - right
        if node.op == "*":
            return left * right
        zero = (right == 0).to_numpy() & left.notna().to_numpy()
        self.fail(zero, "division by zero")
        return (left / right.where(right != 0)).astype("float64")


def is_numeric(node: Node) -> bool:
    """Whether ``node`` computes a number (arithmetic, a number, ``abs``, ``round``)."""
    return node.op in ("num", "neg", "+", "-", "*", "/", "abs", "round") or (
        node.op == "coalesce" and all(is_numeric(a) for a in node.args)
    )


def evaluate(node: Node, frame: pd.DataFrame) -> Derived:
    """Compute ``node`` on every row of ``frame`` (the file's columns)."""
    run = _Eval(frame)
    values = run.number(node) if is_numeric(node) else run.text(node)
    values = values.where(~run.bad, np.nan if is_numeric(node) else None)
    return Derived(values, run.bad, run.reasons)


def inputs_shown(node: Node, frame: pd.DataFrame, mask: np.ndarray) -> pd.Series:
    """``"QUANTITY=0, SALES_VALUE=2.5"`` for the rows in ``mask``: what a reject shows."""
    columns = node.columns()
    shown = pd.Series("", index=frame.index, dtype=object)
    if not columns or not mask.any():
        return shown
    parts = [
        column + "=" + _as_text(frame.loc[mask, column]).fillna("").astype(str)
        for column in columns
    ]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + ", " + part
    shown[mask] = joined
    return shown


def _as_text(series: pd.Series) -> pd.Series:
    """Values as trimmed text, ``None`` where missing or empty; whole floats without ``.0``."""
    if pd.api.types.is_float_dtype(series):
        whole = series.notna() & (series % 1 == 0) & (series.abs() < 2**53)
        text = series.astype(object).where(series.notna(), None)
        text[whole] = series[whole].astype("int64").astype(str)
        text[series.notna() & ~whole] = series[series.notna() & ~whole].astype(str)
        return text
    if pd.api.types.is_bool_dtype(series):
        return series.map({True: "true", False: "false"}).astype(object)
    text = series.astype("string").str.strip()
    text = text.mask(text == "")
    return text.astype(object).where(text.notna(), None)


__all__ = [
    "FUNCTIONS",
    "Derived",
    "Node",
    "evaluate",
    "inputs_shown",
    "is_numeric",
    "parse_expression",
]
