"""Build the notes into a static site from their stored outputs (nothing is re-executed).

    python tools/build_site.py            # into site/
    python tools/build_site.py OUTDIR

Every notebook in notebooks/ becomes OUTDIR/<name>.html (nbconvert's HTMLExporter with the
small template in tools/site_template/), plus OUTDIR/index.html: the README's notes table,
talk section -> page. The pages load nothing from the network, so the folder works from disk
(file://) or any static host:

- plotly.js is copied from the installed plotly package (static/plotly.min.js);
- MathJax 2 is copied from the pinned jupyter-server-mathjax package (static/mathjax/);
- the lab template's CDN scripts (require.js, mermaid, the widget embedder) are left out.

A cell output that carries a plotly figure next to a widget view (the kernel-free form of an
animation or explorer) is shown as that figure, frames and Play button included; a training
progress bar is left out; any other widget view without such a figure becomes a short note
instead of its text repr (``VBox(children=...``), since the static page has no kernel.
Links to ``NN_name.ipynb`` point at ``NN_name.html``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from nbconvert.preprocessors import Preprocessor
from traitlets.config import Config

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = Path(__file__).resolve().parent / "site_template"
PLOTLY = "application/vnd.plotly.v1+json"
WIDGET = "application/vnd.jupyter.widget-view+json"
MATHJAX_URL = "static/mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
# MathJax folders a page never loads: other languages (English is built in), the SVG output
# (the config renders HTML-CSS)
MATHJAX_SKIP = ("localization", "SVG")
WIDGET_NOTE = (
    '<p class="genmod-needs-kernel"><em>Interactive widget: it needs a running kernel. '
    "Open the notebook in JupyterLab and run it to use it.</em></p>"
)
# a tqdm progress bar's text repr: "GAN:   0%|          | 0/1500 [00:00<?, ?it/s]"
PROGRESS_BAR = re.compile(r"\d+%\|")
# href="01_mcmc.ipynb" or href="01_mcmc.ipynb#burn-in" (a sibling notebook, no folder or scheme)
NB_LINK = re.compile(r'href="([\w.-]+)\.ipynb(#[^"]*)?"')


def is_progress_bar(data: dict) -> bool:
    """A widget output that is a training progress bar (tqdm's notebook bar), not a figure."""
    return WIDGET in data and bool(PROGRESS_BAR.search(str(data.get("text/plain", ""))))


class KernelFreeOutputs(Preprocessor):
    """Keep, for each output, what a page without a kernel can show.

    An output holding a plotly figure keeps only the figure (a widget view and its text repr
    next to it are the live form); a progress bar is dropped (its text repr is frozen at 0%);
    any other widget view becomes ``WIDGET_NOTE``. Saved widget state (``metadata.widgets``) is
    dropped: its embedder would come from a CDN.
    """

    def preprocess(self, nb, resources):
        nb.metadata.pop("widgets", None)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        if "outputs" not in cell:
            return cell, resources
        cell.outputs = [o for o in cell.outputs if not is_progress_bar(o.get("data", {}))]
        for out in cell.outputs:
            data = out.get("data")
            if not data:
                continue
            if PLOTLY in data:
                out["data"] = {PLOTLY: data[PLOTLY]}
            elif WIDGET in data:
                out["data"] = {"text/html": WIDGET_NOTE}
        return cell, resources


def exporter() -> HTMLExporter:
    """nbconvert's lab exporter with the site template, local MathJax and plotly first."""
    # plotly before everything: the figure, not the text repr beside it (nbconvert's HTML
    # default order, with the widget view left out: KernelFreeOutputs replaced it)
    priority = [
        PLOTLY,
        *(
            t
            for t in HTMLExporter().default_config.NbConvertBase.display_data_priority
            if t != WIDGET
        ),
    ]
    exp = HTMLExporter(
        config=Config({"NbConvertBase": {"display_data_priority": priority}}),
        template_name="genmod_site",
        extra_template_basedirs=[str(TEMPLATES)],
        mathjax_url=MATHJAX_URL,
    )
    exp.register_preprocessor(KernelFreeOutputs(), enabled=True)
    return exp


def link_pages(html: str) -> str:
    """Point links to sibling notebooks at their pages."""
    return NB_LINK.sub(lambda m: f'href="{m.group(1)}.html{m.group(2) or ""}"', html)


def notes_table(readme: str) -> str:
    """The README's intro (before "## Run it", badges and comments dropped) and its
    "## The notes" section, with notebook links pointing at the pages."""
    intro = readme.split("\n## ", 1)[0]
    intro = "\n".join(
        ln for ln in intro.splitlines() if not ln.startswith("[![") and not ln.startswith("<!--")
    )
    match = re.search(r"^## The notes\n(.*?)(?=^## )", readme, flags=re.M | re.S)
    if match is None:
        raise ValueError("README.md has no '## The notes' section to build the index from")
    notes = re.sub(r"\]\(notebooks/([\w.-]+)\.ipynb\)", r"](\1.html)", match.group(1))
    return f"{intro.strip()}\n\n## The notes\n{notes.strip()}\n"


def index_notebook(readme: str) -> nbformat.NotebookNode:
    text = notes_table(readme) + (
        "\n*Static pages built from the notebooks' stored outputs: figures and animations play"
        " in the page; the controls that need a kernel (widget sliders, dropdowns, training"
        " live) work only when the notebook runs in JupyterLab.*\n"
    )
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text)])
    nb.metadata["title"] = "genmod: two ways to sample"
    return nb


def copy_assets(out: Path) -> None:
    """plotly.js, MathJax and the page script into out/static/."""
    import jupyter_server_mathjax
    import plotly

    static = out / "static"
    static.mkdir(parents=True, exist_ok=True)
    shutil.copy2(Path(plotly.__file__).parent / "package_data" / "plotly.min.js", static)
    shutil.copy2(TEMPLATES / "genmod_site" / "static" / "genmod-site.js", static)
    mathjax = Path(jupyter_server_mathjax.__file__).parent / "static"
    shutil.copytree(
        mathjax,
        static / "mathjax",
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns(*MATHJAX_SKIP),
    )


def build(out: Path, notebooks: list[Path] | None = None, readme: Path | None = None) -> list[Path]:
    """Write the site into ``out``; the pages written (index first)."""
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb")) if notebooks is None else notebooks
    readme = ROOT / "README.md" if readme is None else readme
    out.mkdir(parents=True, exist_ok=True)
    copy_assets(out)
    exp = exporter()
    pages = []
    for name, nb in [("index", index_notebook(readme.read_text()))] + [
        (p.stem, nbformat.read(p, as_version=4)) for p in notebooks
    ]:
        html, _ = exp.from_notebook_node(nb, resources={"metadata": {"name": name}})
        page = out / f"{name}.html"
        page.write_text(link_pages(html), encoding="utf-8")
        pages.append(page)
    return pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", nargs="?", default=str(ROOT / "site"), help="default: site/")
    parser.add_argument("--notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    args = parser.parse_args(argv)
    pages = build(Path(args.outdir), args.notebooks)
    size = sum(f.stat().st_size for f in Path(args.outdir).rglob("*") if f.is_file())
    print(f"{len(pages)} pages in {args.outdir} ({size / 1e6:.1f} MB); open index.html")
    return 0


if __name__ == "__main__":
    sys.exit(main())
