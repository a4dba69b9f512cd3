"""The PromQL we ship, found in the dashboards and the rendered rules, taken apart with a
real PromQL parser (no hand-kept list of queries anywhere)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import promql_parser

COMPARISONS = {">", "<", ">=", "<=", "==", "!="}


@dataclass(frozen=True)
class Query:
    where: str  # e.g. "inference-api.json: Requests per second [A]"
    expr: str
    alert: bool = False


def dashboard_queries(name: str, dashboard: dict) -> list[Query]:
    """Every target expression of every panel, rows' nested panels included; a query
    variable ($model_version) takes its "All" value, as Grafana sends it."""
    variables = {
        f"${v['name']}": v.get("allValue", ".*")
        for v in dashboard.get("templating", {}).get("list", [])
        if v.get("type") == "query"
    }

    def resolved(expr: str) -> str:
        for variable, value in variables.items():
            expr = expr.replace(variable, value)
        return expr

    return [
        Query(
            f"{name}: {panel.get('title', '?')} [{target.get('refId', '?')}]",
            resolved(target["expr"]),
        )
        for panel in _panels(dashboard.get("panels", []))
        for target in panel.get("targets", [])
        if target.get("expr")
    ]


def _panels(panels: list[dict]) -> Iterator[dict]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


# The rule group of the API's alerts (templates/monitoring-prometheusrule.yaml); a Query's
# `where` starts with its group's name.
API_GROUP = "proyecto4-inference-api:"


def rule_queries(prometheus_rule: dict) -> list[Query]:
    return [
        Query(
            f"{group['name']}: {rule.get('alert') or rule.get('record')}",
            rule["expr"],
            "alert" in rule,
        )
        for group in prometheus_rule["spec"]["groups"]
        for rule in group["rules"]
    ]


def split_threshold(expr: str) -> tuple[str, str, float]:
    """An alert `signal <op> number` as (signal, op, number).

    Every alert we ship has this shape; evaluating the signal alone proves the alert sees
    data whether or not it fires. Anything else raises, so a new alert of another shape is
    noticed instead of silently skipped.
    """
    node = _unparen(promql_parser.parse(expr))
    if (
        isinstance(node, promql_parser.BinaryExpr)
        and str(node.op) in COMPARISONS
        and isinstance(_unparen(node.rhs), promql_parser.NumberLiteral)
    ):
        return str(node.lhs), str(node.op), _unparen(node.rhs).val
    raise ValueError(f"not of the form `signal <comparison> number`: {expr}")


def _unparen(node):
    while isinstance(node, promql_parser.ParenExpr):
        node = node.expr
    return node


def selectors(expr: str) -> list[promql_parser.VectorSelector]:
    """The vector selectors of an expression (inside range vectors and subqueries too)."""
    found: list[promql_parser.VectorSelector] = []

    def visit(node):
        if isinstance(node, promql_parser.VectorSelector):
            found.append(node)

    promql_parser.walk(promql_parser.parse(expr), pre_visit=visit)
    return found
