"""Server-rendered SVG charts for the statistics page and the HTML report: no script, no external
request. Each chart has a <title> and <desc> (role="img"); the page shows the same figures as a table
beside it. A protected value (None: fewer than 5) is drawn as a dashed outline, never as a number."""
from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

INK, BAR, SECOND, MUTED = "#1f2937", "#2563eb", "#f59e0b", "#9ca3af"
PROTECTED_HEIGHT = 4
"""A protected bar is drawn as high as 4 (it is 1 to 4), dashed."""


def _svg(chart_id: str, title: str, desc: str, width: int, height: int, body: list[str]) -> Markup:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" role="img" '
            f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" aria-labelledby="{escape(chart_id)}-t {escape(chart_id)}-d">'
            f'<title id="{escape(chart_id)}-t">{escape(title)}</title><desc id="{escape(chart_id)}-d">{escape(desc)}</desc>')
    return Markup(head + "".join(body) + "</svg>")


def _text(x: float, y: float, text: str, anchor: str = "middle", size: int = 11, rotate: bool = False) -> str:
    turn = f' transform="rotate(-40 {x:.1f} {y:.1f})"' if rotate else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{INK}"'
            f'{turn}>{escape(text)}</text>')


def bar_chart(chart_id: str, title: str, desc: str, items: Sequence[tuple[str, int | None]],
              protected_label: str, *, rotate_labels: bool = False) -> Markup:
    """Vertical bars, one per (label, value)."""
    width, height, left, bottom, top = max(320, 48 * len(items) + 60), 260, 40, 70 if rotate_labels else 40, 20
    peak = max([v for _, v in items if v is not None] + [PROTECTED_HEIGHT, 1])
    plot_h, step = height - bottom - top, (width - left - 10) / max(1, len(items))
    body = [f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" stroke="{INK}"/>',
            _text(left - 6, top + 4, str(peak), "end", 10), _text(left - 6, height - bottom, "0", "end", 10)]
    for n, (label, value) in enumerate(items):
        x, bar_w = left + n * step + step * 0.15, step * 0.7
        shown = PROTECTED_HEIGHT if value is None else value
        h = plot_h * shown / peak
        y = height - bottom - h
        if value is None:
            body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="none" '
                        f'stroke="{MUTED}" stroke-dasharray="4 3"><title>{escape(label)}: {escape(protected_label)}'
                        f'</title></rect>')
            body.append(_text(x + bar_w / 2, y - 4, protected_label, size=10))
        else:
            body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{BAR}">'
                        f'<title>{escape(label)}: {value}</title></rect>')
            body.append(_text(x + bar_w / 2, y - 4, str(value), size=10))
        body.append(_text(x + bar_w / 2, height - bottom + 14, label, "end" if rotate_labels else "middle", 10,
                          rotate_labels))
    return _svg(chart_id, title, desc, width, height, body)


def paired_bar_chart(chart_id: str, title: str, desc: str, items: Sequence[tuple[str, float | None, float | None]],
                     legend: tuple[str, str], unit: str) -> Markup:
    """Two bars per label (e.g. median and 90th percentile); None is left out (not enough records)."""
    width, height, left, bottom, top = max(320, 110 * len(items) + 60), 260, 40, 50, 30
    peak = max([v for _, a, b in items for v in (a, b) if v is not None] + [1.0])
    plot_h, step = height - bottom - top, (width - left - 10) / max(1, len(items))
    body = [f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" stroke="{INK}"/>',
            f'<rect x="{left}" y="6" width="10" height="10" fill="{BAR}"/>', _text(left + 14, 15, legend[0], "start", 10),
            f'<rect x="{left + 120}" y="6" width="10" height="10" fill="{SECOND}"/>',
            _text(left + 134, 15, legend[1], "start", 10)]
    for n, (label, first, second) in enumerate(items):
        for k, (value, colour) in enumerate(((first, BAR), (second, SECOND))):
            if value is None:
                continue
            x, bar_w = left + n * step + step * (0.12 + 0.38 * k), step * 0.36
            h = plot_h * value / peak
            body.append(f'<rect x="{x:.1f}" y="{height - bottom - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                        f'fill="{colour}"><title>{escape(label)}: {value:g} {escape(unit)}</title></rect>')
            body.append(_text(x + bar_w / 2, height - bottom - h - 4, f"{value:g}", size=10))
        body.append(_text(left + n * step + step / 2, height - bottom + 16, label, size=11))
    return _svg(chart_id, title, desc, width, height, body)


def heat_map(chart_id: str, title: str, desc: str, rows: Sequence[str], columns: Sequence[str],
             values: Sequence[Sequence[int | None]], protected_label: str) -> Markup:
    """A grid (rows × columns), darker for more; a protected cell is hatched grey."""
    cell_w, cell_h, left, top = 26, 24, 90, 24
    width, height = left + cell_w * len(columns) + 10, top + cell_h * len(rows) + 10
    peak = max([v for row in values for v in row if v is not None] + [1])
    body = [_text(left + c * cell_w + cell_w / 2, top - 8, label, size=10) for c, label in enumerate(columns)]
    for r, label in enumerate(rows):
        body.append(_text(left - 6, top + r * cell_h + cell_h * 0.65, label, "end", 11))
        for c, value in enumerate(values[r]):
            x, y = left + c * cell_w, top + r * cell_h
            if value is None:
                body.append(f'<rect x="{x}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" fill="#e5e7eb" '
                            f'stroke="{MUTED}" stroke-dasharray="2 2"><title>{escape(label)} {escape(columns[c])}: '
                            f'{escape(protected_label)}</title></rect>')
                continue
            shade = 0.08 + 0.92 * value / peak if value else 0.0
            body.append(f'<rect x="{x}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" fill="{BAR}" '
                        f'fill-opacity="{shade:.2f}" stroke="#e5e7eb"><title>{escape(label)} {escape(columns[c])}: '
                        f'{value}</title></rect>')
    return _svg(chart_id, title, desc, width, height, body)
