"""The catalog schema, names, aliases, plugins and the unknown-name errors."""

import importlib.metadata
import sys
import tomllib
import warnings
from pathlib import Path

import pytest

import tfx_textzoo as textzoo
from tfx_textzoo import registry

CATALOG = Path(__file__).resolve().parents[1] / "registry"

REQUIRED_NAMES = (
    ["scratch-tiny", "scratch-small", "scratch-base"]
    + [f"small-bert-L{n}-H{h}" for n in (2, 4, 6, 8, 10, 12) for h in (128, 256, 512, 768)]
    + ["small-bert-L4", "bert-tiny", "bert-mini", "bert-small", "bert-medium"]
    + ["bert-base-uncased", "bert-base-cased", "bert-large-uncased"]
    + ["bert-base-multilingual-cased", "all-minilm-l6-v2", "all-minilm-l12-v2"]
)
ALIASES = {
    "small-bert-L4": "small-bert-L4-H128",
    "bert-tiny": "small-bert-L2-H128",
    "bert-mini": "small-bert-L4-H256",
    "bert-small": "small-bert-L4-H512",
    "bert-medium": "small-bert-L8-H512",
}


def test_every_required_name_is_listed_and_sorted():
    names = textzoo.list_models()
    assert names == sorted(names)
    assert set(REQUIRED_NAMES) <= set(names)
    assert len(names) == len(set(names))


def test_aliases_resolve():
    for alias, canonical in ALIASES.items():
        assert registry.get_spec(alias).name == canonical
        assert textzoo.get_model_info(alias)["name"] == canonical


def test_list_models_filters_with_fnmatch():
    small = textzoo.list_models("small-bert*")
    assert len(small) == 25  # 24 sizes + the lesson's alias
    assert textzoo.list_models("all-minilm*") == [
        "all-minilm-l12-v2",
        "all-minilm-l6-v1",
        "all-minilm-l6-v2",
    ]
    assert textzoo.list_models("nothing-like-this*") == []


@pytest.mark.parametrize("path", sorted(CATALOG.glob("*.toml")), ids=lambda p: p.name)
def test_catalog_schema(path):
    data = tomllib.loads(path.read_text())
    specs = registry.parse_catalog(data, origin=path.name)
    assert specs
    for spec in specs:
        family = registry.get_family(spec.family)
        missing = set(family.architecture_keys) - set(spec.architecture)
        assert not missing, f"{spec.name}: missing architecture keys {missing}"
        assert spec.description and spec.license and spec.citation
        for key in ("learning_rate", "epochs", "batch_size", "freeze_epochs"):
            assert key in spec.finetune, f"{spec.name}: finetune.{key}"
        assert 0 < spec.finetune["learning_rate"] < 1
        for source in spec.sources:
            assert source.format in registry.source_formats()
            assert source.uri
        if spec.family == "bert":
            assert spec.sources, f"{spec.name}: a pretrained family needs weight sources"
            arch = spec.architecture
            assert arch["hidden_dim"] % arch["num_heads"] == 0
            assert isinstance(spec.tokenizer["lowercase"], bool)


def test_get_model_info_fields():
    info = textzoo.get_model_info("small-bert-L4")
    assert info["family"] == "bert"
    assert info["architecture"]["num_layers"] == 4
    assert info["architecture"]["hidden_dim"] == 128
    assert info["architecture"]["num_heads"] == 2
    assert info["architecture"]["vocabulary_size"] == 30522
    assert info["tokenizer"]["lowercase"] is True
    assert info["license"] == "Apache-2.0"
    assert "1908.08962" in info["citation"]
    assert info["finetune"]["learning_rate"] == 3e-5
    assert [s["format"] for s in info["sources"]] == ["bert_tf_checkpoint"] * 2 + ["tfhub"]
    assert 4.7e6 < info["params"] < 4.9e6  # exact count checked against a built model


@pytest.mark.parametrize("call", [textzoo.get_model_info, textzoo.load, registry.get_spec])
def test_unknown_name_suggests_close_matches(call):
    with pytest.raises(ValueError) as info:
        call("small-bert-L4-H129")
    message = str(info.value)
    assert "Unknown model name 'small-bert-L4-H129'" in message
    assert "small-bert-L4-H128" in message and "list_models" in message


def test_case_insensitive_names():
    assert registry.get_spec("BERT-BASE-UNCASED").name == "bert-base-uncased"


def test_duplicate_name_is_an_error():
    entry = dict(
        family="scratch",
        description="d",
        license="MIT",
        architecture={},
        tokenizer={},
        finetune={"learning_rate": 1e-3},
    )
    with pytest.raises(ValueError, match="already registered"):
        registry.parse_catalog({"models": {"scratch-small": entry}})  # parses fine
        textzoo.register_catalog({"models": {"scratch-small": entry}})
    with pytest.raises(ValueError, match="already registered"):
        textzoo.register_catalog({"models": {"zz-new-model": {**entry, "aliases": ["bert-tiny"]}}})
    assert "zz-new-model" not in textzoo.list_models()


# A minimal entry that passes the schema; each bad case below breaks one thing.
ENTRY = {
    "family": "bert",
    "description": "d",
    "license": "l",
    "architecture": {},
    "tokenizer": {},
    "finetune": {},
}


@pytest.mark.parametrize(
    "bad, match",
    [
        ({"models": {"Bad Name": {}}}, "Invalid model or family name"),
        ({"models": {"x-1": {"family": "bert"}}}, "missing required field"),
        (
            {"models": {"x-1": {**ENTRY, "sources": [{"format": "ftp", "uri": "x"}]}}},
            "unknown format",
        ),
        ({"models": {"x-1": {**ENTRY, "colour": 1}}}, "unknown field"),
        ({"modles": {}}, "unknown top-level"),
    ],
)
def test_invalid_catalog_entries(bad, match):
    with pytest.raises(ValueError, match=match):
        registry.parse_catalog(bad)


def test_duplicate_family_is_an_error():
    with pytest.raises(ValueError, match="already registered"):
        textzoo.register_family("bert")(lambda spec, **kw: None)


def _install_plugin(tmp_path, monkeypatch, module_source: str, name: str):
    """A real (tiny) installed distribution that declares a tfx_textzoo.models entry point."""
    site = tmp_path / "site"
    (site / f"{name}.py").parent.mkdir(parents=True, exist_ok=True)
    (site / f"{name}.py").write_text(module_source)
    dist = site / f"{name}-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[tfx_textzoo.models]\n{name} = {name}:register\n")
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    fresh = registry._Registry()
    fresh.families.update(registry._REGISTRY.families)  # built-ins register at import time
    monkeypatch.setattr(registry, "_REGISTRY", fresh)
    return fresh


PLUGIN = """
import tfx_textzoo as textzoo
from tfx_textzoo.families import scratch

def register():
    textzoo.register_family("plugin-family")(scratch.build)
    textzoo.register_catalog({"models": {"plugin-model": {
        "family": "plugin-family", "description": "from a plugin", "license": "MIT",
        "architecture": {"vocabulary_size": 50, "sequence_length": 8, "embedding_dim": 4,
                         "num_heads": 1, "intermediate_dim": 4, "num_layers": 1,
                         "hidden_units": 4, "dropout": 0.0},
        "tokenizer": {}, "finetune": {"learning_rate": 1e-3}}}})
"""


def test_plugin_entry_point_adds_family_and_models(tmp_path, monkeypatch):
    _install_plugin(tmp_path, monkeypatch, PLUGIN, "zoo_plugin_ok")
    assert "plugin-model" in textzoo.list_models()
    assert "scratch-small" in textzoo.list_models()
    assert "plugin-family" in registry.list_families() and "bert" in registry.list_families()
    model = textzoo.load("plugin-model", num_classes=2)
    model.preprocessor.adapt(["a b c"])
    assert model.predict(["a b"], verbose=0).shape == (1, 2)


def test_broken_plugin_warns_and_zoo_still_works(tmp_path, monkeypatch):
    _install_plugin(
        tmp_path,
        monkeypatch,
        "def register():\n    raise RuntimeError('boom')\n",
        "zoo_plugin_broken",
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        names = textzoo.list_models()
    assert "bert-base-uncased" in names
    assert any("zoo_plugin_broken" in str(w.message) and "boom" in str(w.message) for w in caught)


def test_catalog_ships_inside_the_package_build(tmp_path):
    """The wheel carries registry/*.toml as tfx_textzoo/catalog/."""
    import subprocess
    import zipfile

    root = Path(__file__).resolve().parents[1]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(root),
        ],
        check=True,
    )
    wheel = next(tmp_path.glob("tfx_textzoo-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for toml in CATALOG.glob("*.toml"):
        assert f"tfx_textzoo/catalog/{toml.name}" in names
    assert "tfx_textzoo/assets/bert-uncased-vocab.txt" in names
    assert "tfx_textzoo/data/ag_news_sample_train.csv" in names


def _bert_entries_with_presets():
    import keras_hub

    presets = keras_hub.models.BertBackbone.presets
    out = []
    for name in textzoo.list_models():
        spec = textzoo.registry.get_spec(name)
        if spec.name != name or spec.family != "bert":
            continue
        uris = [s.uri for s in spec.sources if s.format == "keras_hub" and s.uri in presets]
        if uris:
            out.append((name, presets[uris[0]]["metadata"]["params"]))
    return out


@pytest.mark.parametrize("name, preset_params", _bert_entries_with_presets())
def test_bert_parameter_counts_agree_with_keras_hub_presets(name, preset_params):
    """The catalog's architecture numbers are the preset's: keras-hub's own count agrees."""
    info = textzoo.get_model_info(name)
    hidden = info["architecture"]["hidden_dim"]
    assert info["params"] - (hidden * 2 + 2) == preset_params  # less the 2-class head


def test_catalog_params_match_the_families():
    """Every entry records ``params`` (so `textzoo list` imports no family), and it is
    the family's count: when this fails, run ``python scripts/update_catalog_params.py``."""
    stale = {}
    for name in registry._REGISTRY.specs:
        spec = registry.get_spec(name)
        counted = registry.count_params(spec)
        if spec.params != counted:
            stale[name] = (spec.params, counted)
    assert not stale, (
        f"catalog params missing or stale (recorded, counted): {stale}; "
        "run `python scripts/update_catalog_params.py` and commit registry/*.toml"
    )


def test_get_model_info_counts_when_the_catalog_has_no_params():
    name = "scratch-no-params-example"
    entry = {
        "family": "scratch",
        "description": "d",
        "license": "MIT",
        "architecture": dict(registry.get_spec("scratch-tiny").architecture),
        "tokenizer": {},
        "finetune": {"learning_rate": 1e-3},
    }
    textzoo.register_catalog({"models": {name: entry}})
    try:
        assert registry.get_spec(name).params is None
        assert textzoo.get_model_info(name)["params"] == registry.get_spec("scratch-tiny").params
    finally:
        registry._REGISTRY.remove_spec(name)


def test_formats_are_checked_when_the_families_load(monkeypatch):
    fresh = registry._Registry()
    fresh.families.update(registry._REGISTRY.families)
    monkeypatch.setattr(registry, "_REGISTRY", fresh)
    fresh.add_catalog({"models": {"x-ftp": {**ENTRY, "sources": [{"format": "ftp", "uri": "x"}]}}})
    assert "x-ftp" in textzoo.list_models()  # reading the catalog checks no format
    with pytest.raises(ValueError, match="'x-ftp'.*unknown format 'ftp'"):
        registry.list_families()
    assert "x-ftp" not in textzoo.list_models()  # dropped; the rest of the zoo works
    assert "bert" in registry.list_families()


def test_update_catalog_params_script_is_idempotent_and_keeps_comments(tmp_path):
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "scripts" / "update_catalog_params.py"
    script_spec = importlib.util.spec_from_file_location("update_catalog_params", path)
    script = importlib.util.module_from_spec(script_spec)
    script_spec.loader.exec_module(script)
    text = (
        "# a comment\n[defaults]\nfamily = 'scratch'\n\n"
        '[models.a-1]  # first\ndescription = "x"\n[[models.a-1.sources]]\n'
        "format = 'hf'\nuri = 'hf://a/b'\n\n[models.\"b-2\"]\nparams = 7  # stale\n"
        'description = "y"\n'
    )
    once = script.rewrite(text, {"a-1": 10, "b-2": 20})
    assert script.rewrite(once, {"a-1": 10, "b-2": 20}) == once
    assert once == text.replace('"x"\n', '"x"\nparams = 10\n').replace("7  #", "20  #")
    assert tomllib.loads(once)["models"]["a-1"]["params"] == 10
