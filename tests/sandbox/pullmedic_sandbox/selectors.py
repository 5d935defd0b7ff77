"""Label and field selectors with kube-apiserver semantics (pure functions, no I/O).

* Label selectors follow ``k8s.io/apimachinery/pkg/labels`` (``selector.go``): ``a=b``, ``a==b``,
  ``a!=b``, ``a in (x,y)``, ``a notin (x)``, ``a``, ``!a``, ``a>1``, ``a<1``; comma means AND.
  ``!=`` and ``notin`` also match objects that do not have the label.
* Field selectors follow ``k8s.io/apimachinery/pkg/fields`` (``selector.go``): ``f=v``, ``f==v``,
  ``f!=v``; comma means AND; ``\\,``, ``\\=`` and ``\\\\`` escape values.  A field missing from an
  object's selectable fields compares as ``""``.
* Which field labels a kind accepts, and the error for the others, come from the field label
  conversion functions of kube-apiserver: ``pkg/apis/core/v1/conversion.go``
  (``addConversionFuncs`` for Pod and Node, ``AddFieldLabelConversionsForEvent``,
  ``...ForNamespace``, ``...ForSecret``), ``pkg/apis/batch/v1/conversion.go`` (Job), and
  ``runtime.DefaultMetaV1FieldSelectorConversion`` for every other kind.
* The values those labels select on come from the registries' ``GetAttrs``:
  ``pkg/registry/core/pod/strategy.go`` ``ToSelectableFields``,
  ``pkg/registry/core/event/strategy.go`` ``ToSelectableFields``, and the node, namespace, secret
  and job strategies.  ``status.podIPs`` is accepted for pods but is not among the pod's
  selectable fields, so on a real server ``status.podIPs=<ip>`` matches no pod; that is kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Labels = Mapping[str, str]
Fields = Mapping[str, str]


class SelectorError(ValueError):
    """A selector that the API server would answer with 400 BadRequest."""


# --------------------------------------------------------------------------- label selectors

_LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_INTEGER = re.compile(r"[-+]?\d+")
_LABEL_TOKEN = re.compile(r"\s*(?:(==|!=|=|!|\(|\)|,|<|>)|([^\s!=(),<>]+))")
_SET_OPERATORS = frozenset({"in", "notin"})
_VALUE_OPERATORS = frozenset({"=", "==", "!="})
_NUMERIC_OPERATORS = frozenset({"<", ">"})


@dataclass(frozen=True)
class Requirement:
    """One label requirement; ``operator`` is one of =, !=, in, notin, exists, !, gt, lt."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Labels) -> bool:
        """Whether a label set satisfies this requirement."""
        present = self.key in labels
        value = labels.get(self.key, "")
        match self.operator:
            case "=" | "in":
                return present and value in self.values
            case "!=" | "notin":
                return not present or value not in self.values
            case "exists":
                return present
            case "!":
                return not present
            case _:
                return present and _compare_numbers(value, self.operator, self.values[0])


@dataclass(frozen=True)
class LabelSelector:
    """A conjunction of label requirements; no requirements selects everything."""

    requirements: tuple[Requirement, ...] = ()

    @property
    def empty(self) -> bool:
        """True when the selector has no requirements."""
        return not self.requirements

    def matches(self, labels: Labels | None) -> bool:
        """Whether a label set satisfies every requirement."""
        labels = labels or {}
        return all(requirement.matches(labels) for requirement in self.requirements)


def parse_label_selector(text: str) -> LabelSelector:
    """Parse the ``labelSelector`` query syntax."""
    tokens = _label_tokens(text)
    requirements: list[Requirement] = []
    position = 0
    while position < len(tokens):
        requirement, position = _parse_requirement(tokens, position)
        requirements.append(requirement)
        if position < len(tokens):
            if tokens[position] != ",":
                raise SelectorError(f"found '{tokens[position]}', expected: ',' or 'end of string'")
            position += 1
            if position == len(tokens):
                raise SelectorError("found 'end of string', expected: identifier")
    return LabelSelector(tuple(sorted(requirements, key=lambda r: r.key)))


def label_selector_from_object(selector: Mapping[str, Any] | None) -> LabelSelector:
    """Convert a ``metav1.LabelSelector`` (matchLabels / matchExpressions) into a selector."""
    selector = selector or {}
    requirements = [
        _requirement(key, "=", (value,))
        for key, value in (selector.get("matchLabels") or {}).items()
    ]
    for expression in selector.get("matchExpressions") or []:
        requirements.append(_expression_requirement(expression))
    return LabelSelector(tuple(requirements))


def _expression_requirement(expression: Mapping[str, Any]) -> Requirement:
    """One ``matchExpressions`` entry as a requirement."""
    operators = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    operator = operators.get(expression.get("operator", ""))
    if operator is None:
        raise SelectorError(
            f"{expression.get('operator')!r} is not a valid label selector operator"
        )
    values = tuple(expression.get("values") or ())
    if (operator in _SET_OPERATORS) != bool(values):
        raise SelectorError(f"values are invalid for operator {expression.get('operator')!r}")
    return _requirement(expression.get("key", ""), operator, values)


def _label_tokens(text: str) -> list[str]:
    """Split a label selector into operator and identifier tokens."""
    tokens: list[str] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _LABEL_TOKEN.match(text, position)
        if match is None:
            raise SelectorError(f"unable to parse label selector {text!r}")
        tokens.append(match.group(1) or match.group(2))
        position = match.end()
    return tokens


def _parse_requirement(tokens: Sequence[str], position: int) -> tuple[Requirement, int]:
    """Parse one requirement starting at ``position``; return it and the next position."""
    if tokens[position] == "!":
        key = _identifier(tokens, position + 1)
        return _requirement(key, "!"), position + 2
    key = _identifier(tokens, position)
    position += 1
    if position == len(tokens) or tokens[position] == ",":
        return _requirement(key, "exists"), position
    operator = tokens[position]
    if operator in _SET_OPERATORS:
        values, position = _parse_set(tokens, position + 1)
        return _requirement(key, operator, values), position
    if operator in _VALUE_OPERATORS | _NUMERIC_OPERATORS:
        value, position = _parse_exact_value(tokens, position + 1)
        canonical = {"==": "=", ">": "gt", "<": "lt"}.get(operator, operator)
        return _requirement(key, canonical, (value,)), position
    raise SelectorError(f"found '{operator}', expected: '=', '!=', '==', 'in', 'notin', '<', '>'")


def _identifier(tokens: Sequence[str], position: int) -> str:
    """The identifier at ``position``."""
    token = tokens[position] if position < len(tokens) else "end of string"
    if position >= len(tokens) or _is_operator_token(token):
        raise SelectorError(f"found '{token}', expected: identifier")
    return token


def _parse_exact_value(tokens: Sequence[str], position: int) -> tuple[str, int]:
    """Value after =, ==, !=, <, > (may be empty)."""
    if position < len(tokens) and not _is_operator_token(tokens[position]):
        return tokens[position], position + 1
    return "", position


def _parse_set(tokens: Sequence[str], position: int) -> tuple[tuple[str, ...], int]:
    """Values of ``(a, b, ...)`` (an empty slot is the empty value); return the next position."""
    if position >= len(tokens) or tokens[position] != "(":
        raise SelectorError("found end of string or identifier, expected: '('")
    values: list[str] = []
    current: str | None = None
    for index in range(position + 1, len(tokens)):
        token = tokens[index]
        if token in {",", ")"}:
            values.append(current or "")
            current = None
            if token == ")":
                return tuple(dict.fromkeys(values)), index + 1
        elif current is None and not _is_operator_token(token):
            current = token
        else:
            raise SelectorError(f"found '{token}', expected: ',', ')' or identifier")
    raise SelectorError("found 'end of string', expected: ')'")


def _is_operator_token(token: str) -> bool:
    """True for punctuation tokens (keywords in/notin are identifiers too)."""
    return token in {"==", "!=", "=", "!", "(", ")", ",", "<", ">"}


def _requirement(key: str, operator: str, values: tuple[str, ...] = ()) -> Requirement:
    """Build a requirement after validating key and values like the API server."""
    _validate_key(key)
    for value in values:
        _validate_value(key, value)
    if operator in {"gt", "lt"} and not _INTEGER.fullmatch(values[0]):
        raise SelectorError(
            "unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer"
        )
    return Requirement(key, operator, values)


def _validate_key(key: str) -> None:
    """Label keys are qualified names: optional DNS-subdomain prefix, '/', name of <= 63 chars."""
    prefix, _, name = key.rpartition("/")
    valid_prefix = not prefix or (len(prefix) <= 253 and _DNS_SUBDOMAIN.fullmatch(prefix))
    if not (valid_prefix and len(name) <= 63 and _LABEL_NAME.fullmatch(name)):
        raise SelectorError(
            f"unable to parse requirement: key: Invalid value: {key!r}: name part must consist of"
            " alphanumeric characters, '-', '_' or '.', and must start and end with an"
            " alphanumeric character"
        )


def _validate_value(key: str, value: str) -> None:
    """Label values are empty or names of <= 63 characters."""
    if value and not (len(value) <= 63 and _LABEL_NAME.fullmatch(value)):
        raise SelectorError(
            f"unable to parse requirement: values[0][{key}]: Invalid value: {value!r}: a valid"
            " label must be an empty string or consist of alphanumeric characters, '-', '_' or"
            " '.', and must start and end with an alphanumeric character"
        )


def _compare_numbers(value: str, operator: str, bound: str) -> bool:
    """``gt`` / ``lt`` comparison; a non-integer label value never matches."""
    if not _INTEGER.fullmatch(value):
        return False
    return int(value) > int(bound) if operator == "gt" else int(value) < int(bound)


# --------------------------------------------------------------------------- field selectors


@dataclass(frozen=True)
class FieldTerm:
    """``field=value`` (``operator`` "=") or ``field!=value`` (``operator`` "!=")."""

    field: str
    operator: str
    value: str

    def matches(self, fields: Fields) -> bool:
        """Whether an object's selectable fields satisfy the term."""
        equal = fields.get(self.field, "") == self.value
        return equal if self.operator == "=" else not equal


@dataclass(frozen=True)
class FieldSelector:
    """A conjunction of field terms; no terms selects everything."""

    terms: tuple[FieldTerm, ...] = ()

    def matches(self, fields: Fields) -> bool:
        """Whether an object's selectable fields satisfy every term."""
        return all(term.matches(fields) for term in self.terms)


def parse_field_selector(text: str) -> FieldSelector:
    """Parse the ``fieldSelector`` query syntax (without checking which fields are allowed)."""
    terms: list[FieldTerm] = []
    for part in sorted(_split_unescaped(text, ",")):
        if not part:
            continue
        field, operator, raw = _split_term(text, part)
        terms.append(FieldTerm(field, "!=" if operator == "!=" else "=", _unescape(raw)))
    return FieldSelector(tuple(terms))


def _split_unescaped(text: str, separator: str) -> list[str]:
    """Split on ``separator`` where it is not escaped by a backslash."""
    parts: list[str] = []
    current: list[str] = []
    escaped = False
    for char in text:
        if char == separator and not escaped:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
        escaped = char == "\\" and not escaped
    parts.append("".join(current))
    return parts


def _split_term(selector: str, term: str) -> tuple[str, str, str]:
    """Split at the first ``!=``, ``==`` or ``=``, scanning left to right like the server."""
    for index in range(len(term)):
        for operator in ("!=", "==", "="):
            if term.startswith(operator, index):
                return term[:index], operator, term[index + len(operator) :]
    raise SelectorError(f"invalid selector: '{selector}'; can't understand '{term}'")


def _unescape(value: str) -> str:
    """Undo ``\\\\``, ``\\,`` and ``\\=``; reject other escapes and bare ``,`` / ``=``."""
    result: list[str] = []
    escaped = False
    for char in value:
        if escaped:
            if char not in "\\,=":
                raise SelectorError(f"invalid field selector: invalid escape sequence: \\{char}")
            result.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in ",=":
            raise SelectorError(f"invalid field selector: unescaped character in value: {char}")
        else:
            result.append(char)
    if escaped:
        raise SelectorError("invalid field selector: invalid escape sequence: \\")
    return "".join(result)


# ------------------------------------------------------------ per-kind field label allow-lists


@dataclass(frozen=True)
class FieldLabels:
    """Field labels a kind accepts, legacy aliases, and the server's error for other labels."""

    allowed: frozenset[str]
    error: str
    aliases: Mapping[str, str]


_NOT_SUPPORTED = "field label not supported: {label}"
_DEFAULT_FIELD_LABELS = FieldLabels(
    frozenset({"metadata.name", "metadata.namespace"}),
    '"{label}" is not a known field selector: only "metadata.name", "metadata.namespace"',
    {},
)
_FIELD_LABELS: dict[str, FieldLabels] = {
    "Pod": FieldLabels(
        frozenset(
            {
                "metadata.name",
                "metadata.namespace",
                "spec.nodeName",
                "spec.restartPolicy",
                "spec.schedulerName",
                "spec.serviceAccountName",
                "spec.hostNetwork",
                "status.phase",
                "status.podIP",
                "status.podIPs",
                "status.nominatedNodeName",
            }
        ),
        _NOT_SUPPORTED,
        {"spec.host": "spec.nodeName"},
    ),
    "Event": FieldLabels(
        frozenset(
            {
                "involvedObject.kind",
                "involvedObject.namespace",
                "involvedObject.name",
                "involvedObject.uid",
                "involvedObject.apiVersion",
                "involvedObject.resourceVersion",
                "involvedObject.fieldPath",
                "reason",
                "reportingComponent",
                "source",
                "type",
                "metadata.namespace",
                "metadata.name",
            }
        ),
        _NOT_SUPPORTED,
        {},
    ),
    "Node": FieldLabels(frozenset({"metadata.name", "spec.unschedulable"}), _NOT_SUPPORTED, {}),
    "Namespace": FieldLabels(frozenset({"metadata.name", "status.phase"}), _NOT_SUPPORTED, {}),
    "Secret": FieldLabels(
        frozenset({"metadata.name", "metadata.namespace", "type"}), _NOT_SUPPORTED, {}
    ),
    "Job": FieldLabels(
        frozenset({"metadata.name", "metadata.namespace", "status.successful"}),
        'field label "{label}" not supported for batchv1.Job',
        {},
    ),
}


def field_labels(kind: str) -> FieldLabels:
    """The field label rules of a kind."""
    return _FIELD_LABELS.get(kind, _DEFAULT_FIELD_LABELS)


def convert_field_selector(kind: str, selector: FieldSelector) -> FieldSelector:
    """Apply the kind's field label conversion: map aliases, reject unsupported labels."""
    rules = field_labels(kind)
    terms = []
    for term in selector.terms:
        field = rules.aliases.get(term.field, term.field)
        if field not in rules.allowed:
            raise SelectorError(rules.error.format(label=term.field))
        terms.append(FieldTerm(field, term.operator, term.value))
    return FieldSelector(tuple(terms))


# ------------------------------------------------------------------------- selectable fields


def selectable_fields(kind: str, obj: Mapping[str, Any], namespaced: bool) -> dict[str, str]:
    """The field set the server filters ``kind`` objects on (object as JSON, v1 field names)."""
    metadata = obj.get("metadata") or {}
    fields = {"metadata.name": str(metadata.get("name", ""))}
    if namespaced:
        fields["metadata.namespace"] = str(metadata.get("namespace", ""))
    extra = _KIND_FIELDS.get(kind)
    if extra is not None:
        fields.update(extra(obj))
    return fields


def _pod_fields(pod: Mapping[str, Any]) -> dict[str, str]:
    """Pod-specific selectable fields (``status.podIPs`` deliberately absent, as on the server)."""
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    pod_ips = status.get("podIPs") or []
    return {
        "spec.nodeName": spec.get("nodeName", ""),
        "spec.restartPolicy": spec.get("restartPolicy", ""),
        "spec.schedulerName": spec.get("schedulerName", ""),
        "spec.serviceAccountName": spec.get("serviceAccountName", ""),
        "spec.hostNetwork": _bool_text(spec.get("hostNetwork")),
        "status.phase": status.get("phase", ""),
        "status.podIP": pod_ips[0].get("ip", "") if pod_ips else status.get("podIP", ""),
        "status.nominatedNodeName": status.get("nominatedNodeName", ""),
    }


def _event_fields(event: Mapping[str, Any]) -> dict[str, str]:
    """Core v1 Event selectable fields."""
    involved = event.get("involvedObject") or {}
    fields = {
        f"involvedObject.{name}": str(involved.get(name, ""))
        for name in (
            "kind",
            "namespace",
            "name",
            "uid",
            "apiVersion",
            "resourceVersion",
            "fieldPath",
        )
    }
    fields.update(
        reason=event.get("reason", ""),
        reportingComponent=event.get("reportingComponent", ""),
        source=(event.get("source") or {}).get("component", ""),
        type=event.get("type", ""),
    )
    return fields


def _node_fields(node: Mapping[str, Any]) -> dict[str, str]:
    """Node selectable fields."""
    return {"spec.unschedulable": _bool_text((node.get("spec") or {}).get("unschedulable"))}


def _namespace_fields(namespace: Mapping[str, Any]) -> dict[str, str]:
    """Namespace selectable fields."""
    return {"status.phase": (namespace.get("status") or {}).get("phase", "")}


def _secret_fields(secret: Mapping[str, Any]) -> dict[str, str]:
    """Secret selectable fields."""
    return {"type": secret.get("type", "")}


def _job_fields(job: Mapping[str, Any]) -> dict[str, str]:
    """Job selectable fields."""
    return {"status.successful": str((job.get("status") or {}).get("succeeded", 0))}


def _bool_text(value: object) -> str:
    """Go's ``strconv.FormatBool`` of an optional JSON boolean."""
    return "true" if value is True else "false"


_KIND_FIELDS: dict[str, Callable[[Mapping[str, Any]], dict[str, str]]] = {
    "Pod": _pod_fields,
    "Event": _event_fields,
    "Node": _node_fields,
    "Namespace": _namespace_fields,
    "Secret": _secret_fields,
    "Job": _job_fields,
}
