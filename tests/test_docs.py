"""The documentation site builds strictly, its generated pages are complete, and every
recipe runs in its smoke form."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import tfx_textzoo as textzoo

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import check_site  # noqa: E402
import convert_sphinx_roles  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RECIPES = ROOT / "docs" / "recipes"
SCRIPTS = [
    "compare_models.py",
    "three_paths.py",
    "finetune_strategies.py",
    "offline.py",
    "publish.py",
    "export_serving.py",
    "distributed.py",
    "plugin_try.py",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    elsewhere = tmp_path_factory.mktemp("cwd")  # the build must not depend on the directory
    config = str(ROOT / "mkdocs.yml")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", config, "-d", str(out)],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stderr[-5000:]
    return out


def _text(html_file: Path) -> str:
    return re.sub(r"<[^>]+>", " ", html_file.read_text(encoding="utf-8"))


@pytest.mark.slow
def test_catalog_page_lists_every_registered_model(site):
    catalog = _text(site / "catalog" / "index.html")
    missing = [name for name in textzoo.list_models() if name not in catalog]
    assert not missing, missing
    home = _text(site / "index.html")
    assert "<!-- textzoo:model-table -->" not in home
    for name in ("scratch-small", "small-bert-L4-H128", "bert-base-uncased"):
        assert name in home


@pytest.mark.slow
def test_api_page_mentions_every_public_name(site):
    api = _text(site / "api" / "index.html")
    missing = [name for name in textzoo.__all__ if name not in api]
    assert not missing, missing
    assert "WarmupLinearDecay" in _text(site / "api" / "training" / "index.html")


@pytest.mark.slow
def test_benchmark_plots_and_recipe_sources_are_in_the_site(site):
    for png in ("finetune_throughput", "inference_throughput", "long_text", "accuracy_vs_time"):
        data = (site / "benchmarks" / f"{png}.png").read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 10_000
    assert (site / "benchmarks" / "ag_news_confusion_matrix.png").is_file()
    page = _text(site / "recipes" / "compare_models" / "index.html")
    assert "markdown_table" in page and "TEXTZOO_SMOKE" in page  # the script, via snippets
    assert not (site / "hooks.py").exists()


def test_every_recipe_script_has_a_page_and_a_test():
    scripts = {p.name for p in RECIPES.glob("*.py")}
    assert scripts == set(SCRIPTS)
    pages = " ".join(p.read_text() for p in RECIPES.glob("*.md"))
    for script in SCRIPTS:
        assert f'--8<-- "docs/recipes/{script}"' in pages, script


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS)
def test_recipe_runs_in_smoke_mode(script, tmp_path):
    result = subprocess.run(
        [sys.executable, str(RECIPES / script), "--smoke"],
        cwd=tmp_path,  # recipes write nowhere but temporary directories
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ),  # TEXTZOO_OFFLINE=1 and an empty TEXTZOO_HOME from conftest
    )
    assert result.returncode == 0, (result.stdout[-2000:], result.stderr[-4000:])
    assert not any(tmp_path.iterdir()), list(tmp_path.iterdir())


def test_no_sphinx_roles_in_the_package():
    """mkdocstrings renders ``:func:`x``` as raw text: use ``[`x`][tfx_textzoo.mod.x]``."""
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in sorted((ROOT / "tfx_textzoo").rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if convert_sphinx_roles.ROLE.search(line)
    ]
    assert not found, "Sphinx roles (scripts/convert_sphinx_roles.py rewrites them):\n" + (
        "\n".join(found)
    )


@pytest.mark.slow
def test_site_html_has_no_raw_roles_dead_links_or_remote_resources(site):
    findings = check_site.check_site(site, browser=False)
    assert findings["pages"] >= 20
    assert not findings["problems"], "\n".join(findings["problems"])


@pytest.mark.slow
def test_site_in_a_headless_browser(site, tmp_path):
    """Images load, tables fit the column, plot text is legible, nothing remote is loaded."""
    if check_site.find_browser() is None:
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    findings = check_site.check_site(site, screenshots=tmp_path, browser=True)
    assert not findings["problems"], "\n".join(findings["problems"])
    assert len(list(tmp_path.glob("*.png"))) == findings["pages"]
    plots = {p["image"] for p in findings["plots"]}
    assert {"finetune_throughput.png", "ag_news_confusion_matrix.png"} <= plots
    assert all(p["min_font_px"] >= check_site.MIN_FONT_PX for p in findings["plots"])
