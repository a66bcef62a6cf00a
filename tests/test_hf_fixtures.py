"""The committed Hugging Face fixtures (tests/fixtures/hf) are present and well-formed.

These checks need neither torch nor transformers: they read the files as bytes and JSON
(the safetensors header is JSON after an 8-byte length).  The fixtures themselves are
made by scripts/make_hf_fixtures.py in its own environment (see tests/fixtures/hf/README.md).
"""

import json
import math
import struct
from pathlib import Path

import pytest

HF = Path(__file__).resolve().parent / "fixtures" / "hf"

FAMILIES = {
    # family: (model_type, base class, classifier class, vocabulary files, token types?)
    "bert": ("bert", "BertModel", "BertForSequenceClassification", ["vocab.txt"], True),
    "distilbert": (
        "distilbert",
        "DistilBertModel",
        "DistilBertForSequenceClassification",
        ["vocab.txt"],
        False,
    ),
    "roberta": (
        "roberta",
        "RobertaModel",
        "RobertaForSequenceClassification",
        ["merges.txt", "vocab.json"],
        False,
    ),
    "xlm-roberta": (
        "xlm-roberta",
        "XLMRobertaModel",
        "XLMRobertaForSequenceClassification",
        ["sentencepiece.bpe.model"],
        False,
    ),
    "albert": ("albert", "AlbertModel", "AlbertForSequenceClassification", ["spiece.model"], True),
    "deberta-v3": (
        "deberta-v2",
        "DebertaV2Model",
        "DebertaV2ForSequenceClassification",
        ["spm.model"],
        True,
    ),
    "electra": ("electra", "ElectraModel", "ElectraForSequenceClassification", ["vocab.txt"], True),
}
COMMON_FILES = [
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
]
ID2LABEL = {"0": "NEG", "1": "NEU", "2": "POS"}
MAX_FAMILY_BYTES = 300_000


def _expected(family):
    return json.loads((HF / family / "expected.json").read_text(encoding="utf-8"))


def _safetensors_header(path):
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    meta = header.pop("__metadata__", {})
    return header, meta, len(data) - 8 - n


def _hidden_size(config):
    return config.get("hidden_size", config.get("dim"))


def test_all_families_and_readme_present():
    assert sorted(p.name for p in HF.iterdir() if p.is_dir()) == sorted(FAMILIES)
    readme = (HF / "README.md").read_text(encoding="utf-8")
    assert "scripts/make_hf_fixtures.py" in readme and "scripts/fixtures_env.sh" in readme


def test_no_pickle_anywhere():
    bad = [p for p in HF.rglob("*") if p.suffix in {".bin", ".pt", ".pth", ".pkl", ".ckpt"}]
    assert not bad


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_files_and_size(family):
    _, _, _, vocab_files, _ = FAMILIES[family]
    for sub in ("base", "classifier"):
        names = {p.name for p in (HF / family / sub).iterdir()}
        missing = set(COMMON_FILES + vocab_files) - names
        assert not missing, (family, sub, missing)
        for name in vocab_files:  # the tokenizer is the same in both directories
            assert (HF / family / sub / name).read_bytes() == (
                HF / family / "base" / name
            ).read_bytes()
    size = sum(p.stat().st_size for p in (HF / family).rglob("*") if p.is_file())
    assert size < MAX_FAMILY_BYTES, size


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_configs(family):
    model_type, base_cls, cls_cls, vocab_files, _ = FAMILIES[family]
    exp = _expected(family)
    assert exp["family"] == family and exp["model_type"] == model_type
    for key in ("torch", "transformers", "tokenizers"):
        assert exp["versions"][key]
    assert exp["versions"]["torch"].startswith("2.13.0")
    base = json.loads((HF / family / "base" / "config.json").read_text())
    clf = json.loads((HF / family / "classifier" / "config.json").read_text())
    assert base == exp["base"]["config"] and clf == exp["classifier"]["config"]
    assert base["model_type"] == clf["model_type"] == model_type
    assert base["architectures"] == [base_cls] and exp["base"]["class"] == base_cls
    assert clf["architectures"] == [cls_cls] and exp["classifier"]["class"] == cls_cls
    assert clf["id2label"] == ID2LABEL and exp["classifier"]["id2label"] == ID2LABEL
    assert clf["label2id"] == {v: int(k) for k, v in ID2LABEL.items()}
    assert exp["tokenizer"]["vocab_files"] == vocab_files
    assert base["vocab_size"] == clf["vocab_size"] == exp["tokenizer"]["vocab_size"]
    for key, value in base.items():  # the same backbone architecture in both
        if key not in {"architectures", "id2label", "label2id"}:
            assert clf.get(key) == value, key
    if family == "deberta-v3":
        assert base["relative_attention"] is True and base["position_biased_input"] is False
        assert base["pos_att_type"] == ["p2c", "c2p"] and base["share_att_key"] is True
        assert base["norm_rel_ebd"] == "layer_norm" and base["position_buckets"] > 0


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_safetensors(family):
    exp = _expected(family)
    vocab = exp["tokenizer"]["vocab_size"]
    for sub in ("base", "classifier"):
        header, meta, payload = _safetensors_header(HF / family / sub / "model.safetensors")
        assert meta.get("format") == "pt"
        total = 0
        for name, info in header.items():
            assert info["dtype"] == "F32", name
            begin, end = info["data_offsets"]
            assert end - begin == 4 * math.prod(info["shape"]), name
            total += end - begin
        assert total == payload
        embeddings = [
            info["shape"]
            for name, info in header.items()
            if name.endswith("word_embeddings.weight")
        ]
        assert len(embeddings) == 1 and embeddings[0][0] == vocab, embeddings
        if sub == "classifier":
            # the head ends in a (3, hidden-ish) projection with a bias
            outs = [info["shape"] for info in header.values() if info["shape"][:1] == [3]]
            assert [3] in outs and any(len(s) == 2 for s in outs), outs


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_expected_outputs_are_consistent(family):
    exp = _expected(family)
    _, _, _, _, has_types = FAMILIES[family]
    length = exp["max_length"]
    hidden = _hidden_size(exp["base"]["config"])
    vocab = exp["tokenizer"]["vocab_size"]
    names = exp["tokenizer"]["model_input_names"]
    assert ("token_type_ids" in names) == has_types
    pad = exp["tokenizer"]["special_token_ids"]["pad_token"]
    kinds = [r["kind"] for r in exp["inputs"]]
    assert kinds.count("text") >= 6 and kinds.count("pair") >= 2
    texts = [r["text"] for r in exp["inputs"]]
    for needed in ("Café Déjà-vu", "a", "東京 is big"):
        assert needed in texts
    assert any(r["truncated"] for r in exp["inputs"] if r["kind"] == "text")
    assert any(r["truncated"] for r in exp["inputs"] if r["kind"] == "pair")
    for r in exp["inputs"]:
        ids, mask = r["input_ids"], r["attention_mask"]
        assert len(ids) == len(mask) == len(r["tokens"]) == length
        assert all(0 <= i < vocab for i in ids + r["full_input_ids"])
        assert set(mask) <= {0, 1} and mask == sorted(mask, reverse=True)
        assert all(i == pad for i, m in zip(ids, mask, strict=True) if m == 0)
        assert r["truncated"] == (len(r["full_input_ids"]) > length)
        if not r["truncated"]:
            assert ids[: sum(mask)] == r["full_input_ids"]
        if has_types:
            assert len(r["token_type_ids"]) == length and set(r["token_type_ids"]) <= {0, 1}
            assert (1 in r["token_type_ids"]) == (r["kind"] == "pair")
        else:
            assert "token_type_ids" not in r
        states = r["last_hidden_state"]
        assert len(states) == length and all(len(row) == hidden for row in states)
        assert all(math.isfinite(v) for row in states for v in row)
        if "pooler_output" in r:
            assert len(r["pooler_output"]) == hidden
        assert len(r["logits"]) == len(r["probabilities"]) == 3
        assert abs(sum(r["probabilities"]) - 1.0) < 1e-5
        # the probabilities are the softmax of the logits
        top = max(r["logits"])
        soft = [math.exp(v - top) for v in r["logits"]]
        for p, q in zip(r["probabilities"], soft, strict=True):
            assert abs(p - q / sum(soft)) < 1e-5
    # a random, non-trivial head: the logits differ between inputs and are not all zero
    assert len({tuple(r["logits"]) for r in exp["inputs"]}) > 1
    assert all(any(v != 0 for v in r["logits"]) for r in exp["inputs"])


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_tokenizer_files_parse(family):
    exp = _expected(family)
    tok = json.loads((HF / family / "base" / "tokenizer.json").read_text(encoding="utf-8"))
    assert tok["model"]["type"] in {"WordPiece", "BPE", "Unigram"}
    config = json.loads((HF / family / "base" / "tokenizer_config.json").read_text())
    assert "from_slow" not in config  # else transformers would ignore tokenizer.json
    disagreements = exp["tokenizer"]["slow_fast_disagreements"]
    assert exp["tokenizer"]["slow_fast_agree"] == (not disagreements)
    if "vocab.txt" in exp["tokenizer"]["vocab_files"]:
        lines = (HF / family / "base" / "vocab.txt").read_text(encoding="utf-8").splitlines()
        assert len(lines) == exp["tokenizer"]["vocab_size"] and "[UNK]" in lines
    if "vocab.json" in exp["tokenizer"]["vocab_files"]:
        vocab = json.loads((HF / family / "base" / "vocab.json").read_text(encoding="utf-8"))
        assert len(vocab) == exp["tokenizer"]["vocab_size"]
        assert (
            (HF / family / "base" / "merges.txt").read_text(encoding="utf-8").startswith("#version")
        )


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_tokenizer_json_reproduces_full_ids(family):
    tokenizers = pytest.importorskip("tokenizers")
    exp = _expected(family)
    tok = tokenizers.Tokenizer.from_file(str(HF / family / "base" / "tokenizer.json"))
    for r in exp["inputs"]:
        args = (r["text"], r["text_pair"]) if r["kind"] == "pair" else (r["text"],)
        assert tok.encode(*args).ids == r["full_input_ids"], r["text"]
