"""Bar charts as inline SVG geometry, computed on the server (no JavaScript, nothing fetched by the browser).

One panel per currency, each with its own scale (amounts of different currencies are not comparable), a zero
line, and a bar per series growing up for positive and down for negative totals. Floats are used for pixel
positions only; the labels show the exact amounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ledger.money import format_amount

PANEL_WIDTH, BAR_WIDTH, BAR_GAP = 40, 28, 10
PLOT_TOP, PLOT_HEIGHT, LABEL_SPACE = 24, 160, 40


@dataclass(frozen=True)
class Bar:
    series: str
    value: str
    x: float
    y: float
    height: float


@dataclass(frozen=True)
class Panel:
    label: str
    x: float
    width: float
    zero_y: float
    bars: list[Bar]

    @property
    def x_end(self) -> float:
        return self.x + self.width


@dataclass(frozen=True)
class Chart:
    width: float
    height: float
    series: list[str]
    panels: list[Panel]
    bar_width: int = BAR_WIDTH

    @property
    def label_y(self) -> float:
        return self.height - LABEL_SPACE / 2


def bar_chart(groups: list[tuple[str, list[tuple[str, Decimal]]]]) -> Chart:
    """groups: [(currency, [(series, amount), ...]), ...] -> the chart's geometry."""
    panels, x = [], 0.0
    for label, values in groups:
        highest = max([v for _, v in values if v > 0], default=Decimal(0))
        lowest = max([-v for _, v in values if v < 0], default=Decimal(0))
        span = float(highest + lowest) or 1.0
        zero_y = round(PLOT_TOP + PLOT_HEIGHT * float(highest) / span, 1)
        bars = []
        for index, (series, value) in enumerate(values):
            height = round(PLOT_HEIGHT * abs(float(value)) / span, 1)
            bars.append(Bar(series, format_amount(value), x + BAR_GAP + index * (BAR_WIDTH + BAR_GAP),
                            round(zero_y - height, 1) if value > 0 else zero_y, height))
        width = BAR_GAP + len(values) * (BAR_WIDTH + BAR_GAP)
        panels.append(Panel(label, x, width, zero_y, bars))
        x += width + PANEL_WIDTH
    series = [name for name, _ in groups[0][1]] if groups else []
    return Chart(max(x, 1.0), PLOT_TOP + PLOT_HEIGHT + LABEL_SPACE, series, panels)
