"""mkdocs hook: the pages and images generated at build time.

``mkdocs.yml`` names this module under ``hooks:``. It generates, in memory (nothing is
written into ``docs/``):

- ``catalog.md``: the model catalog, from the registry (``registry/*.toml`` plus any
  installed plugin), one summary table and one section per model;
- the model table of the Home page (the ``<!-- textzoo:model-table -->`` placeholder);
- ``benchmarks/*.png``: plots of ``benchmarks/results/*.json`` (matplotlib, Agg),
  the AG News confusion matrix included (redrawn from ``ag_news_report.json``), at a
  resolution and font size that stay legible in the page's text column.

Importing ``tfx_textzoo`` imports TensorFlow; no model is built.
"""

from __future__ import annotations

import io
import json
import os
import textwrap
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
MODEL_TABLE = "<!-- textzoo:model-table -->"
CATALOG_PAGE = "catalog.md"
BENCHMARK_DIR = "benchmarks"


def on_config(config):
    """Resolve the snippet base path against the repository, not the working directory.

    ``pymdownx.snippets`` reads ``base_path`` relative to the current directory, so
    ``mkdocs build -f path/to/mkdocs.yml`` from elsewhere could not find the included
    benchmark tables.
    """
    snippets = config["mdx_configs"].setdefault("pymdownx.snippets", {})
    snippets["base_path"] = [str(ROOT / p) for p in snippets.get("base_path", ["."])]
    return config


def on_files(files, config):
    """Add the generated catalog page and benchmark images to the build."""
    files.append(File.generated(config, CATALOG_PAGE, content=catalog_page()))
    for name, content in benchmark_images().items():
        files.append(File.generated(config, f"{BENCHMARK_DIR}/{name}", content=content))
    return files


def on_page_markdown(markdown, page, config, files):
    """Replace the model-table placeholder with the table generated from the registry."""
    if MODEL_TABLE in markdown:
        depth = page.file.src_uri.count("/")
        markdown = markdown.replace(MODEL_TABLE, model_table("../" * depth + CATALOG_PAGE))
    return markdown


# --- the catalog -----------------------------------------------------------------------


def catalog_entries() -> list[dict[str, Any]]:
    """Every canonical catalog entry (aliases folded in), grouped by family then name."""
    import tfx_textzoo as textzoo

    entries: dict[str, dict[str, Any]] = {}
    for name in textzoo.list_models():
        info = textzoo.get_model_info(name)
        entries.setdefault(info["name"], info)
    return sorted(entries.values(), key=lambda e: (e["family"], _natural_key(e["name"])))


def model_table(catalog_link: str) -> str:
    """The compact table of the Home page: one row per model, linked to its catalog entry."""
    rows = [
        "| model | family | parameters | layers × width | pretrained weights | license |",
        "|---|---|---:|---|---|---|",
    ]
    for e in catalog_entries():
        name = f"[`{e['name']}`]({catalog_link}#{e['name']})"
        if e["aliases"]:
            name += " (" + ", ".join(f"`{a}`" for a in e["aliases"]) + ")"
        rows.append(
            f"| {name} | {e['family']} | {_params(e['params'])} | {_shape(e['architecture'])} "
            f"| {_weights_summary(e)} | {e['license']} |"
        )
    return "\n".join(rows)


def catalog_page() -> str:
    """The whole catalog page (markdown)."""
    entries = catalog_entries()
    families = sorted({e["family"] for e in entries})
    out = [
        "# Model catalog",
        "",
        "<!-- Generated at build time by docs/hooks.py from registry/*.toml: do not edit. -->",
        "",
        f"{len(entries)} models in {len(families)} families "
        f"({', '.join(f'`{f}`' for f in families)}), generated when the site is built from "
        "the catalog files in `registry/` (and any installed plugin), so it always matches "
        "`textzoo.list_models()` and `textzoo.get_model_info(name)`. Parameters count the "
        "backbone and a 2-class head. *Recommended settings* are the defaults "
        "`textzoo.finetune` uses for the model; any argument you pass overrides them.",
        "",
        '!!! note "Downloads"',
        "    Models with pretrained weights download them on first use into "
        "`$TEXTZOO_HOME` (see [Working offline](recipes/offline.md)); `weights=None` builds "
        "the same architecture with random weights and downloads nothing. `scratch-*` "
        "models have no pretrained weights: they learn everything from your data.",
        "",
    ]
    for family in families:
        members = [e for e in entries if e["family"] == family]
        out += [f"## Family `{family}`", ""]
        out += [
            "| model | parameters | layers × width | heads | weights | recommended settings |",
            "|---|---:|---|---:|---|---|",
        ]
        for e in members:
            arch = e["architecture"]
            out.append(
                f"| [`{e['name']}`](#{e['name']}) | {_params(e['params'])} | {_shape(arch)} "
                f"| {arch.get('num_heads', '—')} | {_weights_summary(e)} "
                f"| {_settings(e['finetune'], short=True)} |"
            )
        out.append("")
        for e in members:
            out += _model_section(e)
    return "\n".join(out) + "\n"


def _model_section(e: dict[str, Any]) -> list[str]:
    arch = e["architecture"]
    lines = [f"### {e['name']} {{ #{e['name']} }}", "", e["description"], ""]
    if e["aliases"]:
        lines += ["**Aliases:** " + ", ".join(f"`{a}`" for a in e["aliases"]), ""]
    lines += [
        f"- **Family:** `{e['family']}`",
        f"- **Parameters:** {_params(e['params'])}"
        + (f" ({e['params']:,})" if isinstance(e["params"], int) else ""),
        "- **Architecture:** " + ", ".join(f"`{k}={v}`" for k, v in arch.items()),
        "- **Tokenizer:** " + (", ".join(f"`{k}={v}`" for k, v in e["tokenizer"].items()) or "—"),
        f"- **License:** {e['license']}",
        f"- **Recommended settings:** {_settings(e['finetune'])}",
    ]
    if e.get("citation"):
        lines.append(f"- **Citation:** {e['citation']}")
    if e["sources"]:
        lines.append("- **Weight sources** (tried in order):")
        for src in e["sources"]:
            note = f" — {src['note']}" if src.get("note") else ""
            lines.append(f"    1. `{src['format']}`: `{src['uri']}`{note}")
    else:
        lines.append("- **Weight sources:** none (trained from scratch; no download)")
    lines += ["", "```python", f'model = textzoo.load("{e["name"]}", num_classes=4)', "```", ""]
    return lines


def _weights_summary(e: dict[str, Any]) -> str:
    if not e["sources"]:
        return "none (from scratch)"
    formats = list(dict.fromkeys(s["format"] for s in e["sources"]))
    return "download: " + ", ".join(f"`{f}`" for f in formats)


def _shape(arch: dict[str, Any]) -> str:
    layers = arch.get("num_layers")
    width = arch.get("hidden_dim", arch.get("embedding_dim"))
    if layers is None or width is None:
        return "—"
    return f"{layers} × {width}"


def _params(n: Any) -> str:
    if not isinstance(n, int):
        return "—"
    if n >= 1e9:
        return f"{n / 1e9:.1f}B"
    if n >= 1e6:
        return f"{n / 1e6:.1f}M"
    return f"{n / 1e3:.0f}K"


def _settings(finetune: dict[str, Any], short: bool = False) -> str:
    keys = ("learning_rate", "freeze_epochs", "epochs", "batch_size") if short else finetune
    shown = [f"`{k}={finetune[k]}`" for k in keys if k in finetune]
    return ", ".join(shown) or "—"


def _natural_key(name: str) -> list[Any]:
    import re

    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


# --- benchmark plots -------------------------------------------------------------------

#: Width of the page's text column (Material's default layout at 1280 px and wider) and the
#: figure width in inches: at ``PLOT_DPI`` the image is twice the column, shown halved, so
#: a ``pt``-point font is ``pt * PLOT_DPI / 72 / 2`` page pixels. ``MIN_FONT_PT`` keeps the
#: smallest text at ``MIN_FONT_PX`` or more on the page (scripts/check_site.py measures it).
COLUMN_PX = 690
PLOT_DPI = 200
FIGURE_WIDTH_IN = 2 * COLUMN_PX / PLOT_DPI
MIN_FONT_PX = 11
MIN_FONT_PT = 8.5
#: Bar colours: textzoo's two phases, and the peers.
COLORS = {
    "textzoo: full fine-tuning / prediction": "#1f5fa8",
    "textzoo: frozen phase (head only)": "#8fc1e8",
    "peer (keras-hub, Hugging Face)": "#9a9a9a",
}


def benchmark_images() -> dict[str, bytes]:
    """PNG files for the Benchmarks page, by file name (all drawn from the JSON results)."""
    return {
        "finetune_throughput.png": throughput_plot(
            _read_results("finetune_throughput.json"),
            "Fine-tuning throughput, BERT L4-H128 on AG News (CPU, 2 cores)",
            "training examples / s (median)",
        ),
        "inference_throughput.png": throughput_plot(
            _read_results("inference_throughput.json"),
            "Inference throughput, BERT L4-H128 on AG News test (CPU, 2 cores)",
            "predictions / s (median)",
        ),
        "long_text.png": long_text_plot(_read_results("long_text.json")),
        "accuracy_vs_time.png": accuracy_plot(_read_results("accuracy.json")),
        "ag_news_confusion_matrix.png": confusion_matrix_plot(_read_results("ag_news_report.json")),
    }


def bar_kind(description: str) -> str:
    """Which of :data:`COLORS` a benchmark row is drawn in."""
    if not description.startswith("textzoo"):
        return "peer (keras-hub, Hugging Face)"
    if "frozen phase" in description:
        return "textzoo: frozen phase (head only)"
    return "textzoo: full fine-tuning / prediction"


def throughput_plot(results: dict[str, Any], title: str, xlabel: str) -> bytes:
    """Horizontal bars, one per configuration, coloured by kind, with a legend.

    The frozen-phase rows (head only, cached features) are hatched in a light colour:
    they measure another thing than full fine-tuning and must not read as its speed.
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    rows = results["results"]
    labels = ["\n".join(textwrap.wrap(r["description"], 34)) for r in rows]
    values = [r["median_examples_per_s"] for r in rows]
    kinds = [bar_kind(r["description"]) for r in rows]
    lines = sum(len(label.splitlines()) for label in labels)
    fig = Figure(
        figsize=(FIGURE_WIDTH_IN, 0.19 * lines + 0.22 * len(rows) + 1.9), layout="constrained"
    )
    ax = fig.subplots()
    bars = ax.barh(
        range(len(rows)),
        values,
        color=[COLORS[k] for k in kinds],
        hatch=["//" if "frozen" in k else "" for k in kinds],
        edgecolor="#333333",
        linewidth=0.4,
    )
    ax.bar_label(bars, labels=[f"{v:,.0f}" for v in values], padding=3, fontsize=MIN_FONT_PT)
    ax.set_yticks(range(len(rows)), labels, fontsize=MIN_FONT_PT)
    ax.invert_yaxis()
    ax.tick_params(axis="x", labelsize=MIN_FONT_PT)
    ax.set_xlabel(xlabel, fontsize=MIN_FONT_PT + 0.5)
    ax.set_title(title, fontsize=MIN_FONT_PT + 1)
    ax.margins(x=0.16)
    ax.grid(axis="x", alpha=0.3)
    shown = [k for k in COLORS if k in kinds]
    handles = [
        Patch(facecolor=COLORS[k], edgecolor="#333333", hatch="//" if "frozen" in k else "")
        for k in shown
    ]
    fig.legend(
        handles,
        shown,
        loc="outside lower center",
        ncols=1 if len(shown) > 2 else len(shown),
        fontsize=MIN_FONT_PT,
        frameon=False,
    )
    return _png(fig)


def long_text_plot(results: dict[str, Any]) -> bytes:
    """Training time and peak memory side by side, one bar per configuration (and round)."""
    from matplotlib.figure import Figure

    rows = results["results"]
    labels = ["\n".join(textwrap.wrap(r["description"], 30)) for r in rows]
    lines = sum(len(label.splitlines()) for label in labels)
    height = 0.19 * lines + 0.22 * len(rows) + 1.6
    fig = Figure(figsize=(FIGURE_WIDTH_IN, height), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    colors = [COLORS[bar_kind(r["description"])] for r in rows]
    for ax, key, xlabel, fmt in (
        (axes[0], "train_seconds", "training time (s)", "{:,.0f} s"),
        (axes[1], "peak_rss_mb", "peak RSS (MB)", "{:,.0f}"),
    ):
        values = [r[key] for r in rows]
        bars = ax.barh(range(len(rows)), values, color=colors, edgecolor="#333333", linewidth=0.4)
        ax.bar_label(bars, labels=[fmt.format(v) for v in values], padding=3, fontsize=MIN_FONT_PT)
        ax.set_xlabel(xlabel, fontsize=MIN_FONT_PT + 0.5)
        ax.tick_params(axis="x", labelsize=MIN_FONT_PT)
        ax.margins(x=0.3)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(range(len(rows)), labels, fontsize=MIN_FONT_PT)
    axes[0].invert_yaxis()
    fig.suptitle(
        "Long texts: all-MiniLM-L6-v2 on BBC News at 256 tokens (CPU, 2 cores)",
        fontsize=MIN_FONT_PT + 1,
    )
    return _png(fig)


def accuracy_plot(results: dict[str, Any]) -> bytes:
    """Accuracy against training time, one point per (task, model), with a legend."""
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    fig = Figure(figsize=(FIGURE_WIDTH_IN, 4.4), layout="constrained")
    ax = fig.subplots()
    markers: dict[str, str] = {}
    colors = {"scratch": "tab:orange", "pretrained": "tab:blue"}
    for r in results["results"]:
        split, acc = next(iter(sorted(r["accuracy"].items(), key=lambda kv: kv[0] != "test")))
        marker = markers.setdefault(r["task"], "osD^v<>"[len(markers) % 7])
        kind = "scratch" if r["model"].startswith("scratch") else "pretrained"
        ax.scatter(r["train_seconds"], 100 * acc, marker=marker, color=colors[kind], s=50)
        ax.annotate(
            f"{r['model']}\n{r['task']} {split} {100 * acc:.1f}%",
            (r["train_seconds"], 100 * acc),
            textcoords="offset points",
            xytext=(6, -4),
            fontsize=MIN_FONT_PT,
        )
    handles = [
        Line2D([], [], marker=m, color="black", linestyle="", label=t) for t, m in markers.items()
    ] + [
        Line2D([], [], marker="s", color=c, linestyle="", label=f"{k} model")
        for k, c in colors.items()
    ]
    ax.legend(handles=handles, fontsize=MIN_FONT_PT, loc="lower right")
    ax.set_xscale("log")
    ax.tick_params(labelsize=MIN_FONT_PT)
    ax.set_xlabel("training time (s, log scale)", fontsize=MIN_FONT_PT + 0.5)
    ax.set_ylabel("accuracy (%)", fontsize=MIN_FONT_PT + 0.5)
    ax.set_title(
        textwrap.fill(f"Accuracy vs training time ({results.get('machine', '')})", 60),
        fontsize=MIN_FONT_PT + 1,
    )
    ax.margins(x=0.45, y=0.15)
    ax.grid(alpha=0.3)
    return _png(fig)


def confusion_matrix_plot(results: dict[str, Any]) -> bytes:
    """The AG News report's confusion matrix, redrawn from its JSON with ``Report``."""
    from tfx_textzoo.evaluation import Report

    figure = Report.from_dict(results["report"]).plot_confusion_matrix(dpi=PLOT_DPI)
    return _png(figure)


def _read_results(name: str) -> dict[str, Any]:
    return json.loads((RESULTS / name).read_text(encoding="utf-8"))


def _png(fig) -> bytes:
    """The figure as PNG, with its smallest font size and resolution in text chunks.

    scripts/check_site.py reads them to tell the size of the text on the page.
    """
    from matplotlib.text import Text

    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_text().strip()]
    buffer = io.BytesIO()
    fig.savefig(
        buffer,
        format="png",
        dpi=PLOT_DPI,
        metadata={
            "Software": None,
            "textzoo-min-font-pt": f"{min(sizes, default=MIN_FONT_PT):g}",
            "textzoo-dpi": str(PLOT_DPI),
        },
    )
    return buffer.getvalue()
