"""Where a map's labels go: beside their point, clear of each other, of the marks and of the lines drawn.

Fixed offsets (left, above, right, below in turn) let two close gates' names collide and let the border
run through a name. Here each label tries a list of spots, nearest first, and takes the first one whose
extent, measured by the renderer (the same extent the picture has, not a guess from the font size),
overlaps no label already placed and no mark, crosses no line it must avoid and stays inside the map;
where no spot is clear, the one with the fewest conflicts. Lines to avoid only if possible (the roads)
break ties. Used by :mod:`sim.present.animate`; only matplotlib, no new dependency.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.path import Path
from matplotlib.text import Text
from matplotlib.transforms import Bbox

PAD_PX = 2.0  # room kept around every label (pixels)
# offsets from the point in points, nearest ring first; each direction's alignment keeps the text on
# the far side of the point (below: the text's top at the offset; right: its left edge; ...)
_DIRECTIONS = [  # (unit dx, unit dy, ha, va): below, right, left, above, then the diagonals
    (0.0, -1.0, "center", "top"),
    (1.0, 0.0, "left", "center"),
    (-1.0, 0.0, "right", "center"),
    (0.0, 1.0, "center", "bottom"),
    (0.71, -0.71, "left", "top"),
    (-0.71, -0.71, "right", "top"),
    (0.71, 0.71, "left", "bottom"),
    (-0.71, 0.71, "right", "bottom"),
]


@dataclass(frozen=True)
class Spot:
    """One place a label may take: its position (in the label's own coordinates: offset points for an
    annotation, axes fraction for a text on the axes) and its alignment."""

    xy: tuple[float, float]
    ha: str
    va: str


def around(rings: Sequence[float] = (9.0, 15.0, 23.0, 34.0)) -> list[Spot]:
    """Spots around a point, as offsets in points: every direction at the nearest distance first."""
    return [Spot((r * dx, r * dy), ha, va) for r in rings for dx, dy, ha, va in _DIRECTIONS]


def crosses(line: np.ndarray, box: Bbox) -> bool:
    """Whether a polyline (display coordinates, n x 2) passes through a box (its edge or inside)."""
    path = Path(line)
    if path.intersects_bbox(box, filled=False):
        return True
    x, y = line[:, 0], line[:, 1]  # a vertex inside (a segment shorter than the box)
    return bool(np.any((box.x0 <= x) & (x <= box.x1) & (box.y0 <= y) & (y <= box.y1)))


def box_of(text: Text, renderer) -> Bbox:
    """A text's extent in pixels as drawn, with the room kept around labels."""
    return text.get_window_extent(renderer).padded(PAD_PX)


def place(
    labels: Sequence[tuple[Text, Sequence[Spot], Callable[[Bbox], bool] | None]],
    renderer,
    inside: Bbox,
    marks: Sequence[Bbox] = (),
    lines: Sequence[np.ndarray] = (),
    soft_lines: Sequence[np.ndarray] = (),
) -> list[Bbox]:
    """Place ``labels`` in turn (the first gets the first choice): each is a text, its spots, and an
    optional test its extent must pass (e.g. 'north of the border'). A spot is clear when the extent is
    inside ``inside``, overlaps no earlier label nor any of ``marks`` and crosses none of ``lines``
    (display coordinates); among clear spots, fewer crossings of ``soft_lines`` win, then the earlier
    spot. Returns the extents taken, in the labels' order."""
    taken: list[Bbox] = []
    for text, spots, test in labels:
        best: tuple[tuple[int, int, int], Spot] | None = None
        for rank, spot in enumerate(spots):
            _put(text, spot)
            box = box_of(text, renderer)
            hard = sum(box.overlaps(other) for other in (*taken, *marks))
            hard += sum(crosses(line, box) for line in lines)
            hard += not _within(box, inside)
            hard += test is not None and not test(box)
            soft = sum(crosses(line, box) for line in soft_lines)
            key = (int(hard), int(soft), rank)
            if best is None or key < best[0]:
                best = (key, spot)
            if key[:2] == (0, 0):
                break
        assert best is not None, "a label needs at least one spot"
        _put(text, best[1])
        taken.append(box_of(text, renderer))
    return taken


def side_of(line: np.ndarray, north: bool) -> Callable[[Bbox], bool]:
    """A test for :func:`place`: the extent lies wholly north (above) of a west-to-east polyline in
    display coordinates, or wholly south of it, over the extent's width."""

    def test(box: Bbox) -> bool:
        xs = np.linspace(box.x0, box.x1, 9)
        ys = np.interp(xs, line[:, 0], line[:, 1])
        return bool(np.all(ys < box.y0)) if north else bool(np.all(ys > box.y1))

    return test


def _put(text: Text, spot: Spot) -> None:
    text.set_position(spot.xy)
    text.set_horizontalalignment(spot.ha)
    text.set_verticalalignment(spot.va)


def _within(box: Bbox, outer: Bbox) -> bool:
    return outer.x0 <= box.x0 and box.x1 <= outer.x1 and outer.y0 <= box.y0 and box.y1 <= outer.y1
