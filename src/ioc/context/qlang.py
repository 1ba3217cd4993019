"""The NGSI-LD query language (``q``): parsed once with the caller's @context, then evaluated.

Grammar (ETSI GS CIM 009, 4.9): terms joined by ``;`` (and, binding tighter) and ``|`` (or),
grouped by parentheses. A term is an attribute path alone (the attribute exists) or followed
by ``==``, ``!=``, ``<``, ``>``, ``<=``, ``>=``, ``~=`` (regex) or ``!~=`` and a value: a number,
a quoted string, true/false, a date/time, a URI, a list ``a,b,c`` or a range ``a..b``. Paths
are ``attr``, ``attr.subAttr`` (a sub-attribute, or observedAt/unitCode/datasetId/createdAt/
modifiedAt) and ``attr[key][key]`` (members inside a structured value).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from ioc.context.errors import BadRequestData
from ioc.context.jsonld import TermMap

OPERATORS = ("==", "!=", ">=", "<=", "!~=", "~=", ">", "<")
METADATA = frozenset({"observedAt", "unitCode", "datasetId", "createdAt", "modifiedAt"})
VALUE_KEYS = ("value", "object", "vocab", "languageMap", "json", "valueList", "objectList")
MAX_LENGTH = 4000
MAX_REGEX = 256
_NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z?$")
_STOP = set(";|()")


@dataclass(frozen=True, slots=True)
class Path:
    attribute: str  # expanded
    sub: tuple[str, ...] = ()  # expanded sub-attribute names, or a metadata key last
    keys: tuple[str, ...] = ()  # members inside the value


@dataclass(frozen=True, slots=True)
class Term:
    path: Path
    op: str | None = None
    values: tuple[Any, ...] = ()  # a list matches any of them
    low: Any = None  # a range low..high
    high: Any = None
    pattern: re.Pattern[str] | None = None


@dataclass(frozen=True, slots=True)
class Junction:
    kind: str  # "and" | "or"
    parts: tuple[Node, ...] = field(default_factory=tuple)


Node = Term | Junction


class _Parser:
    def __init__(self, text: str, terms: TermMap) -> None:
        self.text = text
        self.pos = 0
        self.terms = terms

    def fail(self, message: str) -> BadRequestData:
        return BadRequestData(f"q: {message} at position {self.pos} of {self.text!r}")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def parse(self) -> Node:
        node = self.disjunction()
        if self.pos != len(self.text):
            raise self.fail(f"unexpected {self.peek()!r}")
        return node

    def disjunction(self) -> Node:
        parts = [self.conjunction()]
        while self.peek() == "|":
            self.pos += 1
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else Junction("or", tuple(parts))

    def conjunction(self) -> Node:
        parts = [self.factor()]
        while self.peek() == ";":
            self.pos += 1
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else Junction("and", tuple(parts))

    def factor(self) -> Node:
        if self.peek() == "(":
            self.pos += 1
            node = self.disjunction()
            if self.peek() != ")":
                raise self.fail("missing ')'")
            self.pos += 1
            return node
        return self.term()

    def term(self) -> Term:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in "=!<>~;|()":
            self.pos += 1
        path = self.path(self.text[start : self.pos].strip())
        op = next((o for o in OPERATORS if self.text.startswith(o, self.pos)), None)
        if op is None:
            if self.peek() and self.peek() not in _STOP:
                raise self.fail(f"unknown operator starting with {self.peek()!r}")
            return Term(path)
        self.pos += len(op)
        raw = self.raw_value()
        if not raw or raw[0] in "=!<>~":
            raise self.fail(f"{op} needs a value")
        if op in ("~=", "!~="):
            pattern = _literal(raw) if raw.startswith('"') else raw
            if not isinstance(pattern, str) or len(pattern) > MAX_REGEX:
                raise self.fail(f"the pattern must be a string of at most {MAX_REGEX} characters")
            try:
                return Term(path, op, pattern=re.compile(pattern))
            except re.error as exc:
                raise self.fail(f"bad regular expression ({exc})") from None
        if ".." in raw and not raw.startswith('"'):
            low, _, high = raw.partition("..")
            if op not in ("==", "!="):
                raise self.fail("a range goes with == or != only")
            return Term(path, op, low=_literal(low), high=_literal(high))
        values = tuple(_literal(item) for item in _split_list(raw))
        if len(values) > 1 and op not in ("==", "!="):
            raise self.fail("a list of values goes with == or != only")
        return Term(path, op, values)

    def raw_value(self) -> str:
        start, quoted = self.pos, False
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == '"' and (self.pos == start or self.text[self.pos - 1] != "\\"):
                quoted = not quoted
            elif not quoted and char in _STOP:
                break
            self.pos += 1
        if quoted:
            raise self.fail("unterminated string")
        return self.text[start : self.pos].strip()

    def path(self, text: str) -> Path:
        if not text:
            raise self.fail("an attribute name is missing")
        head, bracket, rest = text.partition("[")
        keys: tuple[str, ...] = ()
        if bracket:
            if not rest.endswith("]"):
                raise self.fail(f"unbalanced brackets in {text!r}")
            keys = tuple(k.strip() for k in rest[:-1].split("]["))
            if not all(keys):
                raise self.fail(f"an empty member name in {text!r}")
        names = head.split(".")
        if not all(names):
            raise self.fail(f"an empty name in {text!r}")
        sub = tuple(n if n in METADATA else self.terms.expand(n) for n in names[1:])
        return Path(self.terms.expand(names[0]), sub, keys)


def _split_list(raw: str) -> list[str]:
    items, start, quoted = [], 0, False
    for i, char in enumerate(raw):
        if char == '"' and (i == 0 or raw[i - 1] != "\\"):
            quoted = not quoted
        elif char == "," and not quoted:
            items.append(raw[start:i])
            start = i + 1
    items.append(raw[start:])
    return [item.strip() for item in items]


def _literal(raw: str) -> Any:
    """A q value: number, quoted string, boolean, date/time, or an unquoted string (a URI)."""
    raw = raw.strip()
    if raw.startswith('"'):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise BadRequestData(f"q: {raw} is not a well-formed quoted string") from None
    if raw in ("true", "false"):
        return raw == "true"
    if _NUMBER.match(raw):
        return float(raw) if any(c in raw for c in ".eE") else int(raw)
    moment = _moment(raw)
    return moment if moment is not None else raw


def _moment(text: str) -> dt.datetime | dt.date | dt.time | None:
    try:
        if _DATETIME.match(text):
            moment = dt.datetime.fromisoformat(text)
            return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
        if _DATE.match(text):
            return dt.date.fromisoformat(text)
        if _TIME.match(text):
            return dt.time.fromisoformat(text.rstrip("Z"))
    except ValueError:
        return None
    return None


def parse(text: str, terms: TermMap) -> Node:
    """The query ``text`` with attribute names expanded by ``terms``; BadRequestData if wrong."""
    if len(text) > MAX_LENGTH:
        raise BadRequestData(f"q: longer than {MAX_LENGTH} characters")
    return _Parser(text, terms).parse()


def _targets(instances: list[dict[str, Any]], path: Path) -> list[Any]:
    """The values a path points at in an attribute's instances (lists are spread)."""
    out: list[Any] = []
    for instance in instances:
        node: Any = instance
        for name in path.sub:
            node = node.get(name) if isinstance(node, dict) else None
        if node is None:
            continue
        if path.sub and path.sub[-1] in METADATA:
            value: Any = node
        else:
            value = next((node[k] for k in VALUE_KEYS if k in node), None)
            if "languageMap" in node and isinstance(value, dict):
                value = list(value.values())
        for key in path.keys:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, dict) and "@value" in value:
            value = value["@value"]
        if isinstance(value, list):
            out += [v["@value"] if isinstance(v, dict) and "@value" in v else v for v in value]
        elif value is not None:
            out.append(value)
    return out


def _comparable(stored: Any, target: Any) -> tuple[Any, Any] | None:
    """Both sides in one comparable kind, or None when they cannot be compared."""
    if isinstance(target, bool) or isinstance(stored, bool):
        return (stored, target) if isinstance(stored, bool) and isinstance(target, bool) else None
    if isinstance(target, int | float):
        return (stored, target) if isinstance(stored, int | float) else None
    if isinstance(target, dt.datetime | dt.date | dt.time):
        moment = _moment(stored) if isinstance(stored, str) else None
        if type(moment) is not type(target):
            return None
        return moment, target
    if isinstance(target, str) and isinstance(stored, str):
        return stored, target
    return None


def _equal(stored: Any, target: Any) -> bool:
    pair = _comparable(stored, target)
    return pair is not None and pair[0] == pair[1]


def _compare(stored: Any, op: str, target: Any) -> bool:
    pair = _comparable(stored, target)
    if pair is None:
        return False
    a, b = pair
    try:
        return bool(
            a > b if op == ">" else a < b if op == "<" else a >= b if op == ">=" else a <= b
        )
    except TypeError:
        return False


def _term_matches(term: Term, attrs: dict[str, list[dict[str, Any]]]) -> bool:
    instances = attrs.get(term.path.attribute)
    if not instances:
        return False
    targets = _targets(instances, term.path)
    if term.op is None:
        return bool(targets) or not (term.path.sub or term.path.keys)
    if term.pattern is not None:
        found = any(isinstance(v, str) and term.pattern.search(v) for v in targets)
        return found if term.op == "~=" else bool(targets) and not found
    if term.op in ("==", "!="):
        if term.low is not None or term.high is not None:
            hit = any(_compare(v, ">=", term.low) and _compare(v, "<=", term.high) for v in targets)
        else:
            hit = any(_equal(v, t) for v in targets for t in term.values)
        return hit if term.op == "==" else bool(targets) and not hit
    return any(_compare(v, term.op, term.values[0]) for v in targets)


def matches(node: Node, attrs: dict[str, list[dict[str, Any]]]) -> bool:
    """Does an entity (its expanded attributes) satisfy the query?"""
    if isinstance(node, Term):
        return _term_matches(node, attrs)
    if node.kind == "and":
        return all(matches(part, attrs) for part in node.parts)
    return any(matches(part, attrs) for part in node.parts)
