"""Write tiny Hugging Face checkpoints and transformers' own outputs as test fixtures.

Run from the repository root, in the separate fixtures environment (torch and
transformers are never dependencies of tfx_textzoo or of its default tests):

    bash scripts/fixtures_env.sh && .venv-fixtures/bin/python scripts/make_hf_fixtures.py

For each family (bert, distilbert, roberta, xlm-roberta, albert, deberta-v3, electra) it
writes tests/fixtures/hf/<family>/:

- base/: a tiny randomly initialised backbone (config.json, model.safetensors) and the
  family's real tokenizer files, as transformers' save_pretrained writes them;
- classifier/: the same architecture as <Family>ForSequenceClassification with 3 labels
  (NEG, NEU, POS), the same backbone weights as base/ and a seeded random head;
- expected.json: versions, configs, and for fixed texts and text pairs the tokenizer's
  ids at MAX_LENGTH, the backbone's last_hidden_state, the classifier's logits and
  probabilities.

The tokenizers are made here from CORPUS (a WordPiece vocab.txt by fixed rules, byte-level
BPE trained with the `tokenizers` library, SentencePiece models trained with
`sentencepiece`), so no third-party data is used.
Everything is seeded; re-running gives byte-identical files.  No pickle is written or read:
weights go to model.safetensors only.
"""

import json
import os
import re
import shutil
import sys
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "fixtures" / "hf"
MAX_LENGTH = 16
NUM_LABELS = 3
ID2LABEL = {0: "NEG", 1: "NEU", 2: "POS"}
DECIMALS = 6
SEED = 20240614

TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "Café Déjà-vu",
    "Hello, world! It's 2024: 3.14% of 100 (approx.) #1?",
    "a",
    "This sentence is deliberately much longer than the maximum sequence length used for "
    "these fixtures, so the tokenizer must truncate it.",
    "東京 is big",
    "ＦＵＬＬ width ２０２４\u00a0ok",
]
PAIRS = [
    ("How old are you?", "I am 6 years old."),
    ("Café Déjà-vu", "a"),
    (
        "The quick brown fox jumps over the lazy dog.",
        "This second sentence is long enough that the pair must be truncated to fit.",
    ),
]

# The tokenizers' training text.  Written for these fixtures; "京" is left out on purpose
# so that the WordPiece and SentencePiece tokenizers meet an unknown character.
CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "A lazy dog sleeps while the quick fox runs over the hill.",
    "Hello, world! Hello again, small world.",
    "It's 2024: prices rose 3.14% of 100 dollars, approx. #1 in the list?",
    "Numbers like 0 1 2 3 4 5 6 7 8 9 10 100 1000 appear in text.",
    "Café Déjà-vu is a small café in the old town.",
    "The café serves coffee, tea and cake; déjà vu, said the waiter.",
    "How old are you? I am 6 years old. She is 30 years old.",
    "This sentence is long, and that one is longer than the first sentence.",
    "The tokenizer must truncate a sequence that is longer than the maximum length.",
    "These fixtures are tiny: a small vocabulary, a tiny model, random weights.",
    "The second sentence of the pair is long enough to be truncated to fit.",
    "東 is east. Tokyo is big, and the city is bigger than the town.",
    "Good, bad or neutral: the label is positive, negative or neutral.",
    "We use these sentences to train a deliberately small tokenizer for tests.",
    "Punctuation: commas, periods. Questions? Exclamations! (Brackets) and #hashes.",
    "UPPER case and lower case and Mixed Case words.",
    "The brown dog and the quick fox are friends.",
]

ROBERTA_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
WORDPIECE_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

FAMILIES = ["bert", "distilbert", "roberta", "xlm-roberta", "albert", "deberta-v3", "electra"]


def _round(values):
    """Round a nested list of floats to DECIMALS places (and turn -0.0 into 0.0)."""
    if isinstance(values, list):
        return [_round(v) for v in values]
    return round(float(values), DECIMALS) + 0.0


def _dump_json(obj) -> str:
    """JSON with indentation, but each innermost list of numbers on one line."""
    text = json.dumps(obj, indent=1, ensure_ascii=False, sort_keys=False)
    number_list = re.compile(r"\[\s*(-?[0-9][-0-9.eE+]*(?:,\s*-?[0-9][-0-9.eE+]*)*)\s*\]")
    text = number_list.sub(lambda m: "[" + ", ".join(re.split(r",\s*", m.group(1))) + "]", text)
    return text + "\n"


# --------------------------------------------------------------------------- tokenizers


def _wordpiece_vocab(workdir: Path, lowercase: bool) -> Path:
    """Write a small vocab.txt built from CORPUS by fixed rules (deterministic).

    The `tokenizers` WordPiece trainer breaks ties between equally frequent pieces in a
    different order on each run, so the vocabulary is built here instead: the special
    tokens, every character and its `##` continuation, a few common suffixes, and every
    word seen at least twice (most frequent first, ties alphabetical).  Words seen once are
    split into pieces; a character outside CORPUS ("京") becomes [UNK].
    """
    from collections import Counter

    from transformers.models.bert.tokenization_bert import BasicTokenizer

    basic = BasicTokenizer(do_lower_case=lowercase)
    counts = Counter(w for line in CORPUS for w in basic.tokenize(line))
    chars = sorted({c for w in counts for c in w})
    suffixes = ["##s", "##ed", "##er", "##es", "##ing", "##ly", "##en", "##ion"]
    words = sorted(
        (w for w, n in counts.items() if n >= 2 and len(w) > 1), key=lambda w: (-counts[w], w)
    )
    vocab = list(WORDPIECE_SPECIALS)
    for token in [*chars, *("##" + c for c in chars), *suffixes, *words]:
        if token not in vocab:
            vocab.append(token)
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "vocab.txt"
    path.write_text("".join(t + "\n" for t in vocab), encoding="utf-8")
    return path


def _train_byte_bpe(workdir: Path) -> tuple[Path, Path]:
    from tokenizers import ByteLevelBPETokenizer

    tok = ByteLevelBPETokenizer(add_prefix_space=False)
    tok.train_from_iterator(
        CORPUS,
        vocab_size=320,
        min_frequency=2,
        special_tokens=ROBERTA_SPECIALS,
        show_progress=False,
    )
    workdir.mkdir(parents=True, exist_ok=True)
    tok.save_model(str(workdir))
    return workdir / "vocab.json", workdir / "merges.txt"


def _normalization_rules(path: Path) -> Path:
    """Write a small SentencePiece normalization rule table (a stand-in for nmt_nfkc).

    Real XLM-R / ALBERT / DeBERTa-v3 models carry the nmt_nfkc rules as a precompiled
    charsmap of about 240 KB, which would make each fixture several times its size budget.
    These few rules keep the same on-disk form (a precompiled charsmap in the .model file
    and a Precompiled normalizer in tokenizer.json) at a fraction of the size: full-width
    ASCII letters and digits to ASCII, and no-break / ideographic spaces to a space.
    """
    rows = [(0x00A0, 0x20), (0x3000, 0x20)]
    rows += [(0xFF21 + i, 0x41 + i) for i in range(26)]  # Ａ-Ｚ
    rows += [(0xFF41 + i, 0x61 + i) for i in range(26)]  # ａ-ｚ
    rows += [(0xFF10 + i, 0x30 + i) for i in range(10)]  # ０-９
    path.write_text("".join(f"{a:X}\t{b:X}\n" for a, b in rows), encoding="utf-8")
    return path


def _train_sentencepiece(path: Path, model_type: str, vocab_size: int, lowercase: bool, **ids):
    import sentencepiece as spm

    path.parent.mkdir(parents=True, exist_ok=True)
    rules = _normalization_rules(path.parent / "rules.tsv")
    sentences = [s.lower() for s in CORPUS] if lowercase else list(CORPUS)
    spm.set_random_generator_seed(SEED)
    with open(path, "wb") as f:
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(sentences),
            model_writer=f,
            model_type=model_type,
            vocab_size=vocab_size,
            normalization_rule_tsv=str(rules),
            character_coverage=1.0,
            num_threads=1,
            seed_sentencepiece_size=10000,
            shuffle_input_sentence=False,
            hard_vocab_limit=False,
            minloglevel=2,
            **ids,
        )
    # The trainer records the rule file's (temporary) path in the model; drop it so that
    # re-running gives the same bytes.
    from sentencepiece import sentencepiece_model_pb2

    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(path.read_bytes())
    proto.normalizer_spec.ClearField("normalization_rule_tsv")
    path.write_bytes(proto.SerializeToString())
    return path


def _build_tokenizers(family: str, workdir: Path):
    """Return (slow_class, fast_class, slow tokenizer built from freshly trained files)."""
    import transformers as tr

    if family in ("bert", "electra", "distilbert"):
        lowercase = family != "distilbert"  # distilbert is cased here, the others uncased
        vocab = _wordpiece_vocab(workdir / "wp", lowercase=lowercase)
        slow_cls, fast_cls = {
            "bert": (tr.BertTokenizer, tr.BertTokenizerFast),
            "electra": (tr.ElectraTokenizer, tr.ElectraTokenizerFast),
            "distilbert": (tr.DistilBertTokenizer, tr.DistilBertTokenizerFast),
        }[family]
        slow = slow_cls(str(vocab), do_lower_case=lowercase, model_max_length=MAX_LENGTH * 4)
    elif family == "roberta":
        vocab, merges = _train_byte_bpe(workdir / "bpe")
        slow_cls, fast_cls = tr.RobertaTokenizer, tr.RobertaTokenizerFast
        slow = slow_cls(str(vocab), str(merges), model_max_length=MAX_LENGTH * 4)
    elif family == "xlm-roberta":
        model = _train_sentencepiece(
            workdir / "sentencepiece.bpe.model",
            "bpe",
            160,
            False,
            unk_id=0,
            bos_id=1,
            eos_id=2,
            pad_id=-1,
        )
        slow_cls, fast_cls = tr.XLMRobertaTokenizer, tr.XLMRobertaTokenizerFast
        slow = slow_cls(str(model), model_max_length=MAX_LENGTH * 4)
    elif family == "albert":
        model = _train_sentencepiece(
            workdir / "spiece.model",
            "unigram",
            160,
            True,
            pad_id=0,
            pad_piece="<pad>",
            unk_id=1,
            unk_piece="<unk>",
            bos_id=2,
            bos_piece="[CLS]",
            eos_id=3,
            eos_piece="[SEP]",
            user_defined_symbols=["[MASK]"],
        )
        slow_cls, fast_cls = tr.AlbertTokenizer, tr.AlbertTokenizerFast
        slow = slow_cls(
            str(model), do_lower_case=True, keep_accents=False, model_max_length=MAX_LENGTH * 4
        )
    elif family == "deberta-v3":
        model = _train_sentencepiece(
            workdir / "spm.model",
            "unigram",
            160,
            False,
            pad_id=0,
            pad_piece="[PAD]",
            bos_id=1,
            bos_piece="[CLS]",
            eos_id=2,
            eos_piece="[SEP]",
            unk_id=3,
            unk_piece="[UNK]",
        )
        slow_cls, fast_cls = tr.DebertaV2Tokenizer, tr.DebertaV2TokenizerFast
        slow = slow_cls(str(model), do_lower_case=False, model_max_length=MAX_LENGTH * 4)
    else:
        raise ValueError(family)
    return slow_cls, fast_cls, slow


# --------------------------------------------------------------------------- models


def _configs(family: str, vocab_size: int, pad_id: int):
    import transformers as tr

    common = dict(vocab_size=vocab_size, pad_token_id=pad_id)
    label_kw = dict(
        num_labels=NUM_LABELS, id2label=dict(ID2LABEL), label2id={v: k for k, v in ID2LABEL.items()}
    )
    if family == "bert":
        kw = dict(
            hidden_size=16,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=32,
            max_position_embeddings=64,
            type_vocab_size=2,
            hidden_act="gelu",
            **common,
        )
        cfg, base, cls = tr.BertConfig, tr.BertModel, tr.BertForSequenceClassification
    elif family == "electra":
        kw = dict(
            embedding_size=8,
            hidden_size=16,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=32,
            max_position_embeddings=64,
            type_vocab_size=2,
            hidden_act="gelu",
            **common,
        )
        cfg, base, cls = tr.ElectraConfig, tr.ElectraModel, tr.ElectraForSequenceClassification
    elif family == "distilbert":
        kw = dict(
            dim=16,
            n_layers=2,
            n_heads=2,
            hidden_dim=32,
            max_position_embeddings=64,
            activation="gelu",
            sinusoidal_pos_embds=False,
            **common,
        )
        cfg, base = tr.DistilBertConfig, tr.DistilBertModel
        cls = tr.DistilBertForSequenceClassification
    elif family in ("roberta", "xlm-roberta"):
        # RoBERTa's positions start at pad_token_id + 1, so 64 usable positions need 66.
        kw = dict(
            hidden_size=16,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=32,
            max_position_embeddings=64 + pad_id + 1,
            type_vocab_size=1,
            hidden_act="gelu",
            bos_token_id=0,
            eos_token_id=2,
            **common,
        )
        if family == "roberta":
            cfg, base = tr.RobertaConfig, tr.RobertaModel
            cls = tr.RobertaForSequenceClassification
        else:
            cfg, base = tr.XLMRobertaConfig, tr.XLMRobertaModel
            cls = tr.XLMRobertaForSequenceClassification
    elif family == "albert":
        kw = dict(
            embedding_size=8,
            hidden_size=16,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=32,
            max_position_embeddings=64,
            type_vocab_size=2,
            hidden_act="gelu_new",
            num_hidden_groups=1,
            inner_group_num=1,
            bos_token_id=2,
            eos_token_id=3,
            **common,
        )
        cfg, base, cls = tr.AlbertConfig, tr.AlbertModel, tr.AlbertForSequenceClassification
    elif family == "deberta-v3":
        kw = dict(
            hidden_size=16,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=32,
            max_position_embeddings=64,
            type_vocab_size=0,
            hidden_act="gelu",
            relative_attention=True,
            max_relative_positions=-1,
            position_buckets=8,
            pos_att_type=["p2c", "c2p"],
            norm_rel_ebd="layer_norm",
            share_att_key=True,
            position_biased_input=False,
            layer_norm_eps=1e-7,
            pooler_hidden_size=16,
            pooler_hidden_act="gelu",
            **common,
        )
        cfg, base = tr.DebertaV2Config, tr.DebertaV2Model
        cls = tr.DebertaV2ForSequenceClassification
    else:
        raise ValueError(family)
    return cfg(**kw), cfg(**kw, **label_kw), base, cls


def _randomise(model, family: str, prefix: str) -> None:
    """Give every parameter seeded random values, keyed by its name inside the backbone.

    transformers' own init leaves biases at 0 and LayerNorm weights at 1, which would let a
    converter that drops them pass; here every tensor is non-trivial.  A parameter gets the
    same values in the base model and in the classifier's backbone (the classifier's name
    minus its `<prefix>.`), so classifier/ holds base/'s backbone plus a random head.
    """
    import torch

    with torch.no_grad():
        for name, param in model.named_parameters():
            if not prefix:
                key = name
            elif name.startswith(prefix + "."):
                key = name[len(prefix) + 1 :]
            else:
                key = "head:" + name
            gen = torch.Generator().manual_seed(SEED + zlib.crc32(f"{family}/{key}".encode()))
            noise = torch.randn(param.shape, generator=gen, dtype=torch.float32)
            if param.dim() == 1 and name.endswith(".weight"):  # a LayerNorm's scale
                param.copy_(1.0 + 0.1 * noise)
            elif param.dim() == 1:
                param.copy_(0.1 * noise)
            else:
                param.copy_(0.2 * noise)


# --------------------------------------------------------------------------- outputs


def _encode(tok, item):
    kw = dict(max_length=MAX_LENGTH, truncation=True, padding="max_length")
    if isinstance(item, tuple):
        return tok(item[0], item[1], **kw)
    return tok(item, **kw)


def _full_ids(tok, item):
    if isinstance(item, tuple):
        return tok(item[0], item[1])["input_ids"]
    return tok(item)["input_ids"]


def _compare_tokenizers(slow, fast):
    """List the inputs on which the slow and fast tokenizers give different encodings."""
    out = []
    for item in [*TEXTS, *PAIRS]:
        for what, (a, b) in {
            "max_length": (_encode(slow, item), _encode(fast, item)),
            "full": ({"input_ids": _full_ids(slow, item)}, {"input_ids": _full_ids(fast, item)}),
        }.items():
            da, db = dict(a), dict(b)
            if da != db:
                out.append(
                    {
                        "input": list(item) if isinstance(item, tuple) else item,
                        "encoding": what,
                        "slow": {k: list(v) for k, v in da.items()},
                        "fast": {k: list(v) for k, v in db.items()},
                    }
                )
    return out


def _versions():
    import importlib.metadata as md

    names = [
        "torch",
        "transformers",
        "tokenizers",
        "sentencepiece",
        "safetensors",
        "numpy",
        "protobuf",
        "huggingface-hub",
    ]
    return {n: md.version(n) for n in names} | {"python": sys.version.split()[0]}


def _forward(model, enc):
    import torch

    names = ["input_ids", "attention_mask", "token_type_ids"]
    feed = {k: torch.tensor([enc[k]]) for k in names if k in enc}
    with torch.no_grad():
        return model(**feed)


def _files(directory: Path):
    return sorted(p.name for p in directory.iterdir() if p.is_file())


def make_family(family: str, scratch: Path) -> dict:
    """Write tests/fixtures/hf/<family>/ and return a summary for the report."""
    import torch
    import transformers as tr

    torch.manual_seed(SEED)
    target = OUT / family
    if target.exists():
        shutil.rmtree(target)
    base_dir, cls_dir = target / "base", target / "classifier"

    slow_cls, fast_cls, slow = _build_tokenizers(family, scratch / family)
    for directory in (base_dir, cls_dir):
        directory.mkdir(parents=True)
        slow.save_pretrained(str(directory))
        # The fast tokenizer is converted from the slow one and saved beside it, as a Hub
        # checkpoint usually carries both: tokenizer.json next to the vocabulary files.
        # (No from_slow=True here: transformers would record it in tokenizer_config.json and
        # every later load would ignore tokenizer.json.)
        fast_cls.from_pretrained(str(directory)).save_pretrained(str(directory))

    # Round trip: what was saved loads again, slow and fast, and the two agree.
    slow = slow_cls.from_pretrained(str(base_dir))
    fast = fast_cls.from_pretrained(str(base_dir))
    auto = tr.AutoTokenizer.from_pretrained(str(base_dir))
    assert type(auto) is fast_cls, (type(auto), fast_cls)
    disagreements = _compare_tokenizers(slow, fast)

    vocab_size = len(fast)
    base_cfg, cls_cfg, base_cls, cls_cls = _configs(family, vocab_size, fast.pad_token_id)
    base = base_cls(base_cfg).eval()
    clf = cls_cls(cls_cfg).eval()
    prefix = cls_cls.base_model_prefix
    _randomise(base, family, prefix="")
    _randomise(clf, family, prefix=prefix)
    base.save_pretrained(str(base_dir), safe_serialization=True)
    clf.save_pretrained(str(cls_dir), safe_serialization=True)
    for directory in (base_dir, cls_dir):
        assert not any(directory.glob("*.bin")), directory

    # Outputs come from the reloaded checkpoints, so they are what a reader of these files gets.
    base = base_cls.from_pretrained(str(base_dir), use_safetensors=True).eval()
    clf = cls_cls.from_pretrained(str(cls_dir), use_safetensors=True).eval()
    torch.set_grad_enabled(False)

    inputs = []
    for item in [*TEXTS, *PAIRS]:
        enc = {k: list(v) for k, v in _encode(fast, item).items()}
        record = (
            {"kind": "pair", "text": item[0], "text_pair": item[1]}
            if isinstance(item, tuple)
            else {"kind": "text", "text": item}
        )
        record["tokens"] = fast.convert_ids_to_tokens(enc["input_ids"])
        record.update(enc)
        record["full_input_ids"] = list(_full_ids(fast, item))
        record["truncated"] = len(record["full_input_ids"]) > MAX_LENGTH
        out = _forward(base, enc)
        record["last_hidden_state"] = _round(out.last_hidden_state[0].tolist())
        if getattr(out, "pooler_output", None) is not None:
            record["pooler_output"] = _round(out.pooler_output[0].tolist())
        backbone = _forward(getattr(clf, prefix), enc).last_hidden_state
        assert torch.equal(backbone, out.last_hidden_state), "classifier backbone != base"
        logits = _forward(clf, enc).logits[0]
        record["logits"] = _round(logits.tolist())
        record["probabilities"] = _round(torch.softmax(logits, -1).tolist())
        inputs.append(record)

    base_config = json.loads((base_dir / "config.json").read_text())
    cls_config = json.loads((cls_dir / "config.json").read_text())
    expected = {
        "family": family,
        "model_type": base_config["model_type"],
        "versions": _versions(),
        "max_length": MAX_LENGTH,
        "encode_kwargs": {"max_length": MAX_LENGTH, "truncation": True, "padding": "max_length"},
        "decimals": DECIMALS,
        "base": {
            "class": base_cls.__name__,
            "dir": "base",
            "config": base_config,
            "files": _files(base_dir),
            "outputs": ["last_hidden_state"]
            + (["pooler_output"] if "pooler_output" in inputs[0] else []),
        },
        "classifier": {
            "class": cls_cls.__name__,
            "dir": "classifier",
            "base_model_prefix": prefix,
            "num_labels": NUM_LABELS,
            "id2label": {str(k): v for k, v in ID2LABEL.items()},
            "config": cls_config,
            "files": _files(cls_dir),
            "backbone_equals_base": True,
        },
        "tokenizer": {
            "slow_class": slow_cls.__name__,
            "fast_class": fast_cls.__name__,
            "vocab_files": sorted(
                n for n in slow_cls.vocab_files_names.values() if (base_dir / n).is_file()
            ),
            "vocab_size": vocab_size,
            "model_input_names": list(fast.model_input_names),
            "special_tokens": {
                k: v for k, v in fast.special_tokens_map.items() if isinstance(v, str)
            },
            "special_token_ids": {
                k: fast.convert_tokens_to_ids(v)
                for k, v in fast.special_tokens_map.items()
                if isinstance(v, str)
            },
            "slow_fast_agree": not disagreements,
            "slow_fast_disagreements": disagreements,
            "recorded_with": "fast",
        },
        "inputs": inputs,
    }
    (target / "expected.json").write_text(_dump_json(expected), encoding="utf-8")
    size = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
    return {"family": family, "bytes": size, "disagreements": len(disagreements)}


def main(argv: list[str]) -> None:
    """Write the fixtures of the families named in argv (all of them by default)."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import tempfile

    import torch
    import transformers

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    transformers.logging.set_verbosity_error()
    families = argv or FAMILIES
    unknown = sorted(set(families) - set(FAMILIES))
    if unknown:
        sys.exit(f"unknown families {unknown}; choose from {FAMILIES}")
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        for family in families:
            summary = make_family(family, Path(scratch))
            print(
                f"{summary['family']:12s} {summary['bytes']:>8d} bytes  "
                f"slow/fast disagreements: {summary['disagreements']}"
            )


if __name__ == "__main__":
    main(sys.argv[1:])
