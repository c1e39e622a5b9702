"""Self-contained HTML pages: one template for every report gridform writes.

A page is a title and a list of sections; a section holds paragraphs, tables and figures.
Figures are embedded as base64 PNG, so a page needs no network and no other file. The
template escapes every value it is given; only :class:`Markup` passes through as HTML.
"""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from gridform.core.io import atomic_path

__all__ = ["Markup", "Section", "figure", "render_page", "table", "write_page"]

_CSS = """
body{font-family:system-ui,sans-serif;max-width:1150px;margin:2em auto;padding:0 1em;
color:#222}
h1{font-size:1.6em} h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;font-size:.9em;margin:.6em 0}
td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f4f4f4} tr.fail td{background:#fde8e8} tr.pass td{background:#eaf7ea}
img.figure{max-width:100%;border:1px solid #eee;margin:.4em 0;display:block}
.note{color:#666;font-size:.9em}
"""

_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>{{ css }}</style></head><body>
<h1>{{ title }}</h1>
{% for s in sections %}<section id="sec-{{ s.id }}">
<h2 id="{{ s.id }}">{{ s.title }}</h2>
{% if s.collapsed %}<details><summary>show</summary>
{% endif %}{% for part in s.parts %}{{ part }}
{% endfor %}{% if s.collapsed %}</details>
{% endif %}</section>
{% endfor %}</body></html>
"""

_TABLE = """<table>
{% if header %}<tr>{% for h in header %}<th>{{ h }}</th>{% endfor %}</tr>
{% endif %}{% for cls, row in rows %}<tr{% if cls %} class="{{ cls }}"{% endif %}>\
{% for v in row %}<td>{{ v }}</td>{% endfor %}</tr>
{% endfor %}</table>"""

_ENV = jinja2.Environment(autoescape=True, trim_blocks=False, lstrip_blocks=False)


@dataclass
class Section:
    """One ``<section>``: a stable ``id`` (its anchor), a title and its parts in order.
    A part is plain text (escaped, set as a paragraph) or :class:`Markup`."""

    id: str
    title: str
    parts: list[Any] = field(default_factory=list)
    collapsed: bool = False  # shown folded (a <details> element), for reference material

    def add(self, part) -> Section:
        self.parts.append(part if isinstance(part, Markup) else paragraph(str(part)))
        return self


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return "nan" if not math.isfinite(v) else f"{v:.4g}"
    return str(v)


def paragraph(text: str, note: bool = False) -> Markup:
    cls = ' class="note"' if note else ""
    return Markup(f"<p{cls}>") + text + Markup("</p>")


def table(rows, header=None, classes=None) -> Markup:
    """An HTML table; floats are shown with four significant digits."""
    rows = [[_cell(v) for v in r] for r in rows]
    classes = list(classes) if classes is not None else [None] * len(rows)
    return Markup(_ENV.from_string(_TABLE).render(header=header, rows=zip(classes, rows,
                                                                         strict=True)))


def _describe(fig) -> str:
    """A figure's own words for its alt text: its title, else its panels' titles."""
    sup = getattr(fig, "_suptitle", None)
    if sup is not None and sup.get_text():
        return sup.get_text()
    titles = [a.get_title() for a in fig.get_axes() if a.get_title()]
    return "; ".join(dict.fromkeys(titles))[:300] or "figure"


def figure(fig_or_path, alt: str | None = None) -> Markup:
    """A PNG file, or a matplotlib figure (saved and then closed), as an embedded image.
    ``alt`` describes it for a reader who cannot see it; by default a figure's title (or
    its panels' titles), or a file's name."""
    if isinstance(fig_or_path, (str, Path)):
        data = Path(fig_or_path).read_bytes()
        alt = alt or f"figure: {Path(fig_or_path).stem}"
    else:
        import matplotlib.pyplot as plt

        alt = alt or _describe(fig_or_path)

        buf = io.BytesIO()
        fig_or_path.savefig(buf, format="png", dpi=100, bbox_inches="tight")
        plt.close(fig_or_path)
        data = buf.getvalue()
    b64 = base64.b64encode(data).decode("ascii")
    return Markup('<img class="figure" alt="{}" src="data:image/png;base64,{}">').format(alt, b64)


def render_page(title: str, sections: list[Section]) -> str:
    return _ENV.from_string(_TEMPLATE).render(title=title, css=Markup(_CSS),
                                              sections=sections)


def write_page(path: str | Path, title: str, sections: list[Section]) -> Path:
    """Render and write atomically; returns the path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(render_page(title, sections), encoding="utf-8")
    return path
