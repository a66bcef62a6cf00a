"""The family contract: discovery, registration records, the import graph, layer groups."""

from __future__ import annotations

import ast
import types
from pathlib import Path

import keras
import pytest

import tfx_textzoo as textzoo
from tfx_textzoo import families, registry
from tfx_textzoo.families.base import ZooClassifier, check_zoo_classifier
from tfx_textzoo.training import layer_decay_multipliers

PACKAGE = Path(textzoo.__file__).resolve().parent


# ------------------------------------------------------------------ discovery, records


def test_families_are_discovered_from_the_package():
    modules = families.discover()
    assert {"tfx_textzoo.families.bert", "tfx_textzoo.families.scratch"} <= set(modules)
    assert {"bert", "scratch"} <= set(registry.list_families())
    listed = {m for m in _imports("tfx_textzoo.families") if m.startswith("tfx_textzoo.fam")}
    assert not listed, "families are discovered, not listed by hand"


@pytest.mark.parametrize("family", ["bert", "scratch"])
def test_every_builtin_family_registers_the_whole_record(family):
    record = registry.get_family(family)
    assert callable(record.builder) and callable(record.count_params)
    assert record.architecture_keys and all(isinstance(k, str) for k in record.architecture_keys)
    assert isinstance(record.hf_files, tuple)
    assert isinstance(record.converters, dict)
    assert record.tiny_config, "the shared tests build every family from its tiny_config"
    assert set(record.tiny_config) <= set(record.architecture_keys) | {"max_sequence_length"}


def test_bert_declares_its_hugging_face_files():
    assert "vocab.txt" in registry.get_family("bert").hf_files
    assert "vocabulary" in registry.get_family("bert").tiny_tokenizer


def test_every_catalog_entry_names_a_registered_family():
    known = set(registry.list_families())
    for name in textzoo.list_models():
        assert registry.get_spec(name).family in known, name


def test_register_converter_hook():
    if "converter-doc-family" not in registry.list_families():
        registry.register_family("converter-doc-family")(lambda spec, **kw: None)
    registry.get_family("converter-doc-family").converters.clear()
    convert = lambda *args: None  # noqa: E731
    registry.register_converter("converter-doc-family", "tfhub", convert)
    assert registry.get_converter("converter-doc-family", "tfhub") is convert
    assert registry.get_converter("converter-doc-family", "hf") is None
    with pytest.raises(ValueError, match="already has a converter"):
        registry.register_converter("converter-doc-family", "tfhub", convert)
    # A family's converters define the formats its catalog entries may name: a new one
    # becomes valid in catalogs, an ill-formed name is refused.
    assert "onnx_export" not in registry.source_formats()
    registry.register_converter("converter-doc-family", "onnx_export", convert)
    assert "onnx_export" in registry.source_formats()
    with pytest.raises(ValueError, match="lower-case name"):
        registry.register_converter("converter-doc-family", "ONNX format", convert)
    with pytest.raises(ValueError, match="No model family"):
        registry.register_converter("no-such-family", "tfhub", convert)


def test_the_core_refuses_a_model_outside_the_contract():
    plain = keras.Sequential([keras.layers.Dense(2)])
    for what in ("finetune", "predict", "evaluate"):
        with pytest.raises(TypeError, match="tfx_textzoo classifier"):
            check_zoo_classifier(plain, what)
    with pytest.raises(TypeError, match="tfx_textzoo classifier"):
        textzoo.predict(plain, ["a text"])
    with pytest.raises(TypeError, match="tfx_textzoo classifier"):
        textzoo.finetune(plain, (["a", "b"], [0, 1]))


# ------------------------------------------------------------------ the import graph


def _imports(module: str) -> set[str]:
    """The tfx_textzoo modules ``module`` imports anywhere in its source (AST, no import)."""
    path = PACKAGE.joinpath(*module.split(".")[1:])
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return {m for m in found if m.startswith("tfx_textzoo.") and _exists(m)}


def _exists(module: str) -> bool:
    path = PACKAGE.joinpath(*module.split(".")[1:])
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _reachable(start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        todo += _imports(module)
        if "." in module.removeprefix("tfx_textzoo."):  # a submodule imports its package
            todo.append(module.rsplit(".", 1)[0])
    return seen


@pytest.mark.parametrize("module", ["tfx_textzoo.evaluation", "tfx_textzoo.inference"])
def test_evaluation_and_inference_never_import_training(module):
    assert "tfx_textzoo.training" not in _reachable(module)


#: Modules that import no other tfx_textzoo module but each other: anything may use them.
_LEAVES = {"tfx_textzoo.errors", "tfx_textzoo.tasks", "tfx_textzoo.precision"}


def test_inference_imports_neither_evaluation_nor_training():
    assert _imports("tfx_textzoo.inference") <= {"tfx_textzoo.preprocessing", *_LEAVES}
    reached = _reachable("tfx_textzoo.inference")
    assert not reached & {"tfx_textzoo.evaluation", "tfx_textzoo.training"}


@pytest.mark.parametrize("module", sorted(_LEAVES))
def test_leaf_modules_import_only_leaves(module):
    assert _imports(module) <= _LEAVES


def test_training_and_evaluation_share_inference():
    assert "tfx_textzoo.inference" in _imports("tfx_textzoo.training")
    assert "tfx_textzoo.inference" in _imports("tfx_textzoo.evaluation")


def test_the_core_names_no_family():
    for module in ("training", "evaluation", "inference", "preprocessing"):
        imported = _imports(f"tfx_textzoo.{module}")
        assert not {m for m in imported if m.startswith("tfx_textzoo.families.")} - {
            "tfx_textzoo.families.base",
            "tfx_textzoo.families.common",
        }, module


# ------------------------------------------------------------------ layer groups, decay


def _shared_layer_model():
    """An ALBERT-like model: one transformer layer object used at both depths."""
    inputs = keras.Input((4,))
    embedding = keras.layers.Dense(4, name="embedding")
    shared = keras.layers.Dense(4, name="shared_layer")
    head = keras.layers.Dense(2, name="head")
    backbone = keras.Model(inputs, shared(shared(embedding(inputs))), name="backbone")
    outputs = head(backbone(inputs))
    fake = types.SimpleNamespace(
        backbone=backbone,
        trainable_variables=[*backbone.trainable_variables, *head.trainable_variables],
        transformer_layers=lambda: [shared, shared],
    )
    fake.layer_groups = lambda: ZooClassifier.layer_groups(fake)
    del outputs
    return fake, shared


def test_a_shared_layer_is_in_every_group_it_is_used_at():
    model, shared = _shared_layer_model()
    groups = model.layer_groups()
    assert [[v.path for v in g] for g in groups] == [
        ["embedding/kernel", "embedding/bias"],
        ["shared_layer/kernel", "shared_layer/bias"],
        ["shared_layer/kernel", "shared_layer/bias"],
        ["head/kernel", "head/bias"],
    ]


def test_a_shared_layer_gets_one_multiplier_the_deepest_groups():
    model, _ = _shared_layer_model()
    multipliers = layer_decay_multipliers(model, 0.5)
    assert multipliers == {
        "embedding/kernel": 0.125,
        "embedding/bias": 0.125,
        "shared_layer/kernel": 0.5,  # in groups 1 (0.25) and 2 (0.5): the deepest wins
        "shared_layer/bias": 0.5,
        "head/kernel": 1.0,
        "head/bias": 1.0,
    }


def test_bert_layer_groups_are_embeddings_layers_top():
    model = textzoo.load("bert-tiny", num_classes=2, weights=None)
    groups = model.layer_groups()
    assert len(groups) == 2 + model.backbone.num_layers
    assert all("embedding" in v.path for v in groups[0])
    for depth, group in enumerate(groups[1:-1]):
        assert {v.path.split("/")[0] for v in group} == {f"transformer_layer_{depth}"}
    assert {v.path.split("/")[0] for v in groups[-1]} == {"pooled_dense", "logits"}


def test_mean_pooling_keeps_the_pooler_out_of_every_group():
    model = textzoo.load("bert-tiny", num_classes=2, weights=None, pooling="mean")
    paths = {v.path for g in model.layer_groups() for v in g}
    assert not {p for p in paths if p.startswith("pooled_dense")}
    assert paths == {v.path for v in model.trainable_variables}
