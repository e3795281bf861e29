"""Bar charts as inline SVG geometry, computed on the server (no JavaScript, nothing fetched by the browser).

One panel per currency, each with its own scale (amounts of different currencies are not comparable), a zero
line, and a bar per series growing up for positive and down for negative totals. Coordinates are whole pixels
across and Decimals to a tenth of a pixel up and down; the labels show the exact amounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ledger.money import format_amount

PANEL_WIDTH, BAR_WIDTH, BAR_GAP = 40, 28, 10
PLOT_TOP, PLOT_HEIGHT, LABEL_SPACE = 24, 160, 40
TENTH = Decimal("0.1")


@dataclass(frozen=True)
class Bar:
    series: str
    value: str
    x: int
    y: Decimal
    height: Decimal


@dataclass(frozen=True)
class Panel:
    label: str
    x: int
    width: int
    zero_y: Decimal
    bars: list[Bar]

    @property
    def x_end(self) -> int:
        return self.x + self.width


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    series: list[str]
    panels: list[Panel]
    bar_width: int = BAR_WIDTH

    @property
    def label_y(self) -> int:
        return self.height - LABEL_SPACE // 2


def pixels(value: Decimal) -> Decimal:
    """An SVG coordinate, to a tenth of a pixel."""
    return value.quantize(TENTH)


def bar_chart(groups: list[tuple[str, list[tuple[str, Decimal]]]]) -> Chart:
    """groups: [(currency, [(series, amount), ...]), ...] -> the chart's geometry."""
    panels, x = [], 0
    for label, values in groups:
        highest = max([v for _, v in values if v > 0], default=Decimal(0))
        lowest = max([-v for _, v in values if v < 0], default=Decimal(0))
        span = (highest + lowest) or Decimal(1)
        zero_y = pixels(PLOT_TOP + PLOT_HEIGHT * highest / span)
        bars = []
        for index, (series, value) in enumerate(values):
            height = pixels(PLOT_HEIGHT * abs(value) / span)
            bars.append(Bar(series, format_amount(value), x + BAR_GAP + index * (BAR_WIDTH + BAR_GAP),
                            zero_y - height if value > 0 else zero_y, height))
        width = BAR_GAP + len(values) * (BAR_WIDTH + BAR_GAP)
        panels.append(Panel(label, x, width, zero_y, bars))
        x += width + PANEL_WIDTH
    names = [name for name, _ in groups[0][1]] if groups else []
    return Chart(max(x, 1), PLOT_TOP + PLOT_HEIGHT + LABEL_SPACE, names, panels)
