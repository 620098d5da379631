"""Layout of the lineage picture: upstream datasets left, this one centre, downstream right.

Only geometry is computed here; the template draws the SVG (so everything stays escaped).
"""

import re
from dataclasses import dataclass
from typing import Any

from django.urls import reverse

NODE_W = 250
NODE_H = 40
GAP = 14
COL_X = (10, 345, 680)
WIDTH = COL_X[2] + NODE_W + 10
PAD_Y = 10
MAX_LABEL = 30
DEFAULT_COLOR = "#9ca3af"
_HEX = re.compile(r"^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$")


def safe_color(level: Any) -> str:
    color = getattr(level, "color", "") or ""
    return color if _HEX.match(color) else DEFAULT_COLOR


@dataclass(frozen=True)
class Node:
    x: int
    y: int
    label: str
    title: str
    href: str
    color: str
    current: bool

    @property
    def text_x(self) -> int:
        return self.x + 14

    @property
    def text_y(self) -> int:
        return self.y + NODE_H // 2 + 5


@dataclass(frozen=True)
class Edge:
    path: str


def _label(fqn: str) -> str:
    return fqn if len(fqn) <= MAX_LABEL else "…" + fqn[-(MAX_LABEL - 1) :]


def _column(datasets: list[Any], x: int, height: int) -> list[Node]:
    block = len(datasets) * NODE_H + max(len(datasets) - 1, 0) * GAP
    top = (height - block) // 2
    return [
        Node(
            x=x,
            y=top + i * (NODE_H + GAP),
            label=_label(d.fqn),
            title=d.fqn,
            href=reverse("catalog:dataset-detail", args=[d.pk]),
            color=safe_color(d.effective_sensitivity),
            current=False,
        )
        for i, d in enumerate(datasets)
    ]


def _curve(x1: int, y1: int, x2: int, y2: int) -> str:
    mid = (x1 + x2) // 2
    return f"M{x1},{y1} C{mid},{y1} {mid},{y2} {x2},{y2}"


def lineage_layout(*, dataset: Any, upstream: list[Any], downstream: list[Any]) -> dict[str, Any]:
    rows = max(len(upstream), len(downstream), 1)
    height = rows * NODE_H + (rows - 1) * GAP + 2 * PAD_Y
    centre = Node(
        x=COL_X[1],
        y=(height - NODE_H) // 2,
        label=_label(dataset.fqn),
        title=dataset.fqn,
        href=reverse("catalog:dataset-detail", args=[dataset.pk]),
        color=safe_color(dataset.effective_sensitivity),
        current=True,
    )
    left = _column(upstream, COL_X[0], height)
    right = _column(downstream, COL_X[2], height)
    cy = centre.y + NODE_H // 2
    edges = [Edge(_curve(n.x + NODE_W, n.y + NODE_H // 2, centre.x - 2, cy)) for n in left]
    edges += [Edge(_curve(centre.x + NODE_W, cy, n.x - 2, n.y + NODE_H // 2)) for n in right]
    return {
        "width": WIDTH,
        "height": height,
        "node_w": NODE_W,
        "node_h": NODE_H,
        "nodes": [*left, centre, *right],
        "edges": edges,
        "upstream_count": len(upstream),
        "downstream_count": len(downstream),
    }
