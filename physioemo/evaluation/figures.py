"""The numbered figures and tables of a report, and the report as one PDF.

`Figures` saves each figure as PNG, SVG and PDF in the run folder's ``figures/`` (TrueType fonts
in the PDF, text kept as text in the SVG), numbers it and returns it for the page as an embedded
PNG under its caption; it numbers the tables the same way. `write_pdf` writes everything as one
PDF a supplement can take: a title page, the tables, then each figure on its own page above its
numbered caption.
"""

from __future__ import annotations

import base64
import html
import io
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

#: resolution of the PNG files and of the page's images (dots per inch)
DPI = 150
#: matplotlib settings while saving: TrueType (Type 42) fonts in PDF, as journals ask; text as
#: text in SVG; file contents that do not change with the time they are written
RC = {"pdf.fonttype": 42, "ps.fonttype": 42, "svg.fonttype": "none", "svg.hashsalt": "physioemo"}
#: what each saved format's metadata leaves out (the date), so equal figures give equal files
METADATA = {"png": {"Software": None}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}
#: the page size of the PDF's text pages (inches, landscape A4) and its margin
PAGE, MARGIN = (11.69, 8.27), 0.5
#: font size (points) of captions and of the title page
CAPTION_SIZE = 9


@dataclass
class Numbered:
    """One numbered figure (`content`: a matplotlib Figure; `name`: its file stem) or table
    (`content`: (head, rows) of text cells)."""

    number: int
    name: str
    caption: str
    content: object


class Figures:
    """The numbered figures and tables of one report, the figures saved in `folder` (old
    figure files there are removed first)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in (p for kind in METADATA for p in self.folder.glob(f"*.{kind}")):
            old.unlink()
        self.figures: list[Numbered] = []
        self.tables: list[Numbered] = []

    def embed(self, figure, name: str, caption: str) -> str:
        """Save `figure` as `name` (slugged, made unique) .png, .svg and .pdf, number it, and
        return it for the page: the PNG embedded, the caption under it."""
        import matplotlib

        stem = candidate = slug(name)
        taken, number = {f.name for f in self.figures}, 2
        while candidate in taken:
            candidate, number = f"{stem}-{number}", number + 1
        entry = Numbered(len(self.figures) + 1, candidate, caption, figure)
        self.figures.append(entry)
        with matplotlib.rc_context(RC):
            for kind, metadata in METADATA.items():
                buffer = io.BytesIO()
                figure.savefig(buffer, format=kind, dpi=DPI, bbox_inches="tight", metadata=metadata)
                (self.folder / f"{entry.name}.{kind}").write_bytes(buffer.getvalue())
        encoded = base64.b64encode((self.folder / f"{entry.name}.png").read_bytes()).decode()
        label = f"Figure {entry.number}"
        return (
            f'<figure id="figure-{entry.number}"><img src="data:image/png;base64,{encoded}" '
            f'alt="{label}"><figcaption><b>{label}.</b> {text(caption)}</figcaption></figure>'
        )

    def table(self, title: str, head: list[str], rows: list[list[str]]) -> str:
        """Number a table of text cells and return it for the page, its title as caption."""
        entry = Numbered(len(self.tables) + 1, "", title, (head, rows))
        self.tables.append(entry)
        caption = f'<p id="table-{entry.number}"><b>Table {entry.number}.</b> {text(title)}</p>'
        return caption + html_table("", head, rows)


def html_table(title: str, head: list[str], rows: list[list[str]]) -> str:
    """One table of text cells; rows that mention LEAKS are shaded."""
    caption = f"<p><b>{text(title)}</b></p>" if title else ""
    header = "".join(f"<th>{text(cell)}</th>" for cell in head)
    lines = []
    for cells in rows:
        shade = ' class="leaks"' if any("LEAKS" in cell for cell in cells) else ""
        lines.append(f"<tr{shade}>" + "".join(f"<td>{text(c)}</td>" for c in cells) + "</tr>")
    return f"{caption}<table><tr>{header}</tr>{''.join(lines)}</table>"


def text(value) -> str:
    """Any value as HTML-escaped text (names read from files included)."""
    return html.escape(str(value), quote=True)


def slug(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(value).lower()).strip("-")[:120] or "figure"


# ----------------------------------------------------------------------------- the PDF
def write_pdf(path: Path, title: str, header: list[str], figures: Figures) -> Path:
    """One PDF: a title page (`title`, the `header` paragraphs), each numbered table on text
    pages, then each numbered figure on its own page above its caption. Returns `path`."""
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages

    metadata = {"Title": title, "CreationDate": None}
    with matplotlib.rc_context(RC), PdfPages(path, metadata=metadata) as pdf:
        pdf.savefig(text_page([title, *header], CAPTION_SIZE, portrait=True))
        for table in figures.tables:
            for page in table_pages(table):
                pdf.savefig(page)
        for entry in figures.figures:
            pdf.savefig(captioned(entry), bbox_inches="tight", pad_inches=0.3)
    return Path(path)


def captioned(entry: Numbered):
    """The entry's figure with its numbered caption written under it (wrapped to its width)."""
    figure = entry.content
    width = figure.get_size_inches()[0]
    characters = max(40, int(width * 72 / (CAPTION_SIZE * 0.55)))
    caption = textwrap.fill(f"Figure {entry.number}. {entry.caption}", characters)
    figure.text(0.0, -0.02, caption, ha="left", va="top", fontsize=CAPTION_SIZE, wrap=False)
    return figure


def table_pages(entry: Numbered) -> list:
    """A table as pages of monospaced text: "Table N. title", then its rows, columns aligned
    and long cells wrapped; the font shrinks so the widest line fits the page."""
    head, rows = entry.content
    lines = aligned([head, *rows])
    size = min(8.0, (PAGE[0] - 2 * MARGIN) * 72 / (0.6 * max(map(len, lines))))
    heading = textwrap.wrap(f"Table {entry.number}. {entry.caption}", 150) or [""]
    per_page = int((PAGE[1] - 2 * MARGIN) * 72 / (1.25 * size)) - len(heading) - 1
    body, top = lines[2:], lines[:2]
    chunks = [body[i : i + per_page] for i in range(0, max(len(body), 1), per_page)]
    return [text_page([*heading, "", *top, *chunk], size) for chunk in chunks]


def aligned(rows: list[list[str]], width: int = 36) -> list[str]:
    """Rows of text cells as aligned lines, each cell wrapped at `width` characters, a rule
    under the first row."""
    wrapped = [[textwrap.wrap(str(cell), width) or [""] for cell in row] for row in rows]
    widths = [max(len(line) for row in wrapped for line in row[i]) for i in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(wrapped):
        for k in range(max(map(len, row))):
            cells = [
                (cell[k] if k < len(cell) else "").ljust(w)
                for cell, w in zip(row, widths, strict=True)
            ]
            lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def text_page(lines: list[str], size: float, portrait: bool = False):
    """A page of text lines from its top left: monospaced lines, or (`portrait`) paragraphs
    wrapped to the page."""
    from matplotlib.figure import Figure

    width, height = PAGE[::-1] if portrait else PAGE
    figure = Figure(figsize=(width, height))
    content = "\n".join(lines)
    if portrait:
        characters = int((width - 2 * MARGIN) * 72 / (size * 0.55))
        content = "\n\n".join(textwrap.fill(line, characters) for line in lines)
    figure.text(
        MARGIN / width,
        1 - MARGIN / height,
        content,
        ha="left",
        va="top",
        fontsize=size,
        family="sans-serif" if portrait else "monospace",
        linespacing=1.25,
    )
    return figure
