"""One helper for every explorer: a few controls over one figure, live and static.

An explorer is a figure, some controls, and a ``draw(values) -> Patch`` function that says
what the figure and the readout show for the controls' current values. :func:`explorer`
builds the live form (the controls observed, each change drawn into a FigureWidget) and
the static form (``settings``: a handful of control positions precomputed into frames,
with a slider over them) from the same ``draw``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as W
import plotly.graph_objects as go

from genmod import render_static
from genmod.render_live import apply_patch, redraw_if_blank
from genmod.render_static import StaticForm
from genmod.scene import Patch
from genmod.staged import StagedFigure

Values = dict[str, Any]


class Explorer(StaticForm, W.VBox):
    """Controls, a figure and a readout; see :func:`explorer`.

    Public: ``.figure`` (the FigureWidget), ``.readout`` (HTML), ``.controls`` (name ->
    widget), ``.values()`` (their current values), ``.redraw()``, ``.static_figure()``.
    Children: the control rows, the figure, the readout.
    """

    def __init__(self, rows, controls, base, draw, settings, slider_prefix, interval_ms):
        self.controls, self.draw, self.settings = controls, draw, settings
        self._base = go.Figure(base)
        self._prefix, self._interval = slider_prefix, interval_ms
        self.figure = StagedFigure(base)
        self.readout = W.HTML().add_class("genmod-readout")  # found by tests/test_browser.py
        self._rows = list(rows)
        for w in controls.values():
            w.observe(self.redraw, names="value")
        self.redraw()
        self.prepare_static()
        super().__init__([*self._rows, self.figure.publish(), self.readout])
        redraw_if_blank(self.figure, self._swap)

    def values(self) -> Values:
        return {name: w.value for name, w in self.controls.items()}

    def redraw(self, _=None) -> None:
        """Draw the controls' current values."""
        patch = self.draw(self.values())
        apply_patch(self.figure, patch)
        self.readout.value = patch.readout

    def _swap(self, new: go.FigureWidget) -> None:
        self.figure = new
        self.children = (*self._rows, new, self.readout)

    def static_spec(self) -> dict:
        """The kernel-free form: one frame per setting, Play and a slider over them."""
        labels = [label for label, _ in self.settings]
        patches = [self.draw({**self.values(), **values}) for _, values in self.settings]
        return render_static.static_spec(
            self._base, patches, labels, slider_prefix=self._prefix, interval_ms=self._interval
        )


def explorer(
    rows: list[W.Widget],
    controls: dict[str, W.Widget],
    figure: go.Figure,
    draw: Callable[[Values], Patch],
    settings: list[tuple[str, Values]],
    *,
    slider_prefix: str = "",
    interval_ms: int = 700,
) -> Explorer:
    """An explorer box: ``rows`` of controls, ``figure`` redrawn by ``draw`` on every change.

    Parameters
    ----------
    rows: the widgets shown above the figure (controls, or HBoxes of them).
    controls: name -> widget whose ``value`` goes to ``draw`` under that name.
    figure: the figure's traces and layout before any draw.
    draw: values -> Patch (trace data by index, layout, readout line); called on every change
        and, for the static form, once per setting.
    settings: (label, values) pairs precomputed for the static form, in slider order;
        values missing from a setting keep the controls' initial values.
    """
    if not settings:
        raise ValueError("an explorer needs at least one setting for its static form")
    unknown = {k for _, v in settings for k in v} - set(controls)
    if unknown:
        raise ValueError(
            f"settings name unknown controls {sorted(unknown)}; valid: {sorted(controls)}"
        )
    return Explorer(rows, controls, figure, draw, settings, slider_prefix, interval_ms)


class Delegating(StaticForm, W.VBox):
    """A box whose static form is another widget's (``source``, e.g. the animation inside)."""

    def __init__(self, children, source: StaticForm, **kwargs):
        self._source = source
        self._static_json = source.prepare_static()
        super().__init__(children, **kwargs)

    def static_spec(self) -> dict:
        return self._source.static_spec()
