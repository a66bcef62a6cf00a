"""Issue 15 in textzoo.datasets: label sets (multi-label) and text pairs in TextDataset,
as_examples and as_inputs. Expected values are written out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tfx_textzoo._checks import align_labels
from tfx_textzoo.datasets import (
    Examples,
    TextDataset,
    as_examples,
    as_inputs,
    as_texts_and_labels,
    check_text_pairs,
)

NAMES = ["anger", "fun", "joy"]
TEXTS = ["so angry and yet fun", "what fun, what joy", "nothing", "grr"]
SETS = [["anger", "fun"], ["fun", "joy"], [], ["anger"]]
MATRIX = [[1, 1, 0], [0, 1, 1], [0, 0, 0], [1, 0, 0]]


# --- TextDataset --------------------------------------------------------------------------


def test_multi_label_text_dataset():
    data = TextDataset(TEXTS, MATRIX, NAMES, "moods")
    assert data.multi_label and data.labels.dtype == np.int32 and data.labels.shape == (4, 3)
    assert data.class_counts() == {"anger": 2, "fun": 2, "joy": 1}
    assert data.label_sets() == SETS
    assert data[1] == ("what fun, what joy", [1, 2]) and data[2] == ("nothing", [])
    assert list(data)[3] == ("grr", [0])
    assert repr(data) == (
        "TextDataset('moods', 4 texts, 3 labels (multi-label): anger=2, fun=2, joy=1)"
    )
    part = data[[3, 0]]
    assert part.multi_label and part.labels.tolist() == [[1, 0, 0], [1, 1, 0]]
    assert data[data.labels[:, 0] == 1].texts == ["so angry and yet fun", "grr"]
    assert data.head(2) == [
        {"text": TEXTS[0], "labels": [0, 1], "label_names": ["anger", "fun"]},
        {"text": TEXTS[1], "labels": [1, 2], "label_names": ["fun", "joy"]},
    ]


def test_multi_label_text_dataset_errors():
    with pytest.raises(ValueError, match="2 columns, there are 3 label names"):
        TextDataset(["a"], [[1, 0]], NAMES)
    with pytest.raises(ValueError, match=r"must be 0/1; rows \[1\] hold other values"):
        TextDataset(["a", "b"], [[1, 0, 0], [0, 2, 0]], NAMES)
    with pytest.raises(ValueError, match="2 texts but 1 label rows"):
        TextDataset(["a", "b"], [[1, 0, 0]], NAMES)
    single = TextDataset(["a", "b"], [[0], [1]], ["x", "y"])  # a column of ids stays ids
    assert not single.multi_label and single.labels.tolist() == [0, 1]


def test_text_pairs_in_text_dataset():
    data = TextDataset(
        ["A man sleeps.", "It rains.", "Cats purr."],
        [1, 0, 0],
        ["entailment", "not_entailment"],
        "rte-ish",
        text_pairs=["A man is awake.", "It is wet.", "Cats make sounds."],
    )
    assert data[0] == (("A man sleeps.", "A man is awake."), 1)
    assert data[1:].text_pairs == ["It is wet.", "Cats make sounds."]
    assert data[[2]].texts == ["Cats purr."] and data[[2]].text_pairs == ["Cats make sounds."]
    assert repr(data) == (
        "TextDataset('rte-ish', 3 text pairs, 2 classes: entailment=2, not_entailment=1)"
    )
    assert data.head(1) == [
        {
            "text": "A man sleeps.",
            "text_pair": "A man is awake.",
            "label": 1,
            "label_name": "not_entailment",
        }
    ]
    with pytest.raises(ValueError, match="3 texts but 2 text_pairs"):
        TextDataset(["a", "b", "c"], [0, 1, 0], ["x", "y"], text_pairs=["d", "e"])
    with pytest.raises(ValueError, match="as_examples"):
        as_texts_and_labels(data)  # it would drop the second texts


def test_to_tf_dataset_pairs_and_label_sets():
    pairs = TextDataset(["a", "b", "c"], [0, 1, 1], ["x", "y"], text_pairs=["d", "e", "f"])
    (first, second), labels = next(iter(pairs.to_tf_dataset(batch_size=2)))
    assert first.numpy().tolist() == [b"a", b"b"] and second.numpy().tolist() == [b"d", b"e"]
    assert labels.numpy().tolist() == [0, 1]
    tags = TextDataset(TEXTS, MATRIX, NAMES)
    batches = list(tags.to_tf_dataset(batch_size=3).as_numpy_iterator())
    assert [b[1].tolist() for b in batches] == [MATRIX[:3], MATRIX[3:]]
    # and back through as_examples: pairs and 0/1 rows survive the round trip
    ex = as_examples(pairs.to_tf_dataset(batch_size=2))
    assert ex.texts.tolist() == ["a", "b", "c"] and ex.text_pairs.tolist() == ["d", "e", "f"]
    assert ex.labels.tolist() == [0, 1, 1]
    ex = as_examples(tags.to_tf_dataset(), multi_label=True, label_names=NAMES)
    assert ex.labels.tolist() == MATRIX and ex.labels.dtype == np.float32
    ex = as_examples(tags.to_tf_dataset(batch_size=3), multi_label=True, num_classes=3)
    assert ex.labels.tolist() == MATRIX
    single = TextDataset(["a", "b", "c"], [0, 2, 1], NAMES)  # unbatched ids: sets of one
    ex = as_examples(single.to_tf_dataset(), multi_label=True, num_classes=3)
    assert ex.labels.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]


def test_align_labels_moves_multi_label_columns_by_name():
    data = TextDataset(TEXTS, MATRIX, NAMES)
    aligned = align_labels(data, ["joy", "anger", "fun"])
    assert aligned.labels.tolist() == [[0, 1, 1], [1, 0, 1], [0, 0, 0], [0, 1, 0]]
    assert aligned.label_sets() == [["anger", "fun"], ["joy", "fun"], [], ["anger"]]


# --- as_examples: multi-label forms -------------------------------------------------------


@pytest.mark.parametrize(
    "labels",
    [
        SETS,  # names
        [[0, 1], [1, 2], [], [0]],  # ids
        [("fun", "anger"), {"joy", "fun"}, (), ["anger"]],  # tuples, sets, any order
        np.array(MATRIX),  # a 0/1 array
        MATRIX,  # lists of 0/1 of the right width
        [[True, True, False], [False, True, True], [False] * 3, [True, False, False]],
    ],
    ids=["names", "ids", "mixed-containers", "array", "lists", "bools"],
)
def test_as_examples_label_set_forms(labels):
    ex = as_examples((TEXTS, labels), multi_label=True, label_names=NAMES, what="train")
    assert isinstance(ex, Examples) and ex.text_pairs is None
    assert ex.labels.dtype == np.float32 and ex.labels.tolist() == MATRIX
    assert ex.label_names == NAMES
    texts, pairs, labels_out = ex  # a 3-tuple
    assert texts.tolist() == TEXTS and pairs is None and labels_out.shape == (4, 3)


def test_as_examples_multi_label_table_forms():
    frame = pd.DataFrame(
        {
            "text": TEXTS,
            "sets": SETS,
            "piped": ["anger|fun", "fun | joy", "", "anger"],
            "commas": ["0,1", "1,2", None, "0"],
            "anger": [1, 0, 0, 1],
            "fun": [1, 1, 0, 0],
            "joy": [0, 1, 0, 0],
        }
    )
    kw = {"multi_label": True, "label_names": NAMES}
    assert as_examples(frame, label_column="sets", **kw).labels.tolist() == MATRIX
    piped = as_examples(frame, label_column="piped", label_delimiter="|", **kw)
    assert piped.labels.tolist() == MATRIX
    # ids as strings from a delimited column; a missing cell is the empty set
    commas = as_examples(frame, label_column="commas", label_delimiter=",", **kw)
    assert commas.labels.tolist() == MATRIX
    columns = as_examples(frame, label_column=["joy", "anger", "fun"], **kw)  # any order
    assert columns.labels.tolist() == MATRIX and columns.label_names == NAMES
    nameless = as_examples(frame, label_column=["fun", "joy"], multi_label=True)
    assert nameless.label_names == ["fun", "joy"]
    assert nameless.labels.tolist() == [[1, 0], [1, 1], [0, 0], [0, 0]]
    labelled = frame.rename(columns={"sets": "labels"})  # the Hub's go_emotions column
    assert as_examples(labelled[["text", "labels"]], **kw).labels.tolist() == MATRIX


def test_delimited_ids_as_strings():
    """'0,15' (GoEmotions' own format) is a set of ids, read through the names or ids."""
    ex = as_examples(
        (["a", "b"], ["0,2", "1"]), multi_label=True, num_classes=3, label_delimiter=","
    )
    assert ex.labels.tolist() == [[1, 0, 1], [0, 1, 0]]
    named = as_examples(
        (["a", "b"], ["joy,0", "fun"]), multi_label=True, label_names=NAMES, label_delimiter=","
    )
    assert named.labels.tolist() == [[1, 0, 1], [0, 1, 0]]


def test_single_labels_become_sets_of_one():
    ex = as_examples((["a", "b"], ["joy", "anger"]), multi_label=True, label_names=NAMES)
    assert ex.labels.tolist() == [[0, 0, 1], [1, 0, 0]]
    data = TextDataset(["a", "b"], [2, 0], NAMES)
    assert as_examples(data, multi_label=True).labels.tolist() == [[0, 0, 1], [1, 0, 0]]


def test_multi_label_errors():
    kw = {"multi_label": True, "label_names": NAMES, "what": "train"}
    with pytest.raises(ValueError) as err:
        as_examples((["a", "b"], [["fun", "sad"], ["glee"]]), **kw)
    message = str(err.value)
    assert "2 unknown label name(s): 'sad' (row 0), 'glee' (row 1)" in message
    assert "['anger', 'fun', 'joy']" in message
    with pytest.raises(ValueError, match="label_delimiter=','"):
        as_examples((["a"], [["fun,joy"]]), **kw)
    with pytest.raises(ValueError, match="has 2 columns but there are 3 labels"):
        as_examples((["a", "b"], np.array([[0, 1], [1, 0]])), **kw)
    with pytest.raises(ValueError, match=r"may only hold 0 and 1; 1 row\(s\).*\[2\].*rows \[1\]"):
        as_examples((["a", "b"], np.array([[0, 1, 0], [2, 0, 0]])), **kw)
    with pytest.raises(ValueError, match="outside 0..2: 3 \\(row 1\\)"):
        as_examples((["a", "b"], [[0], [3]]), **kw)
    with pytest.raises(ValueError, match="repeated label, at rows \\[0\\].*wrong width"):
        as_examples((["a", "b"], [[1, 1], [0, 1]]), **kw)  # a 2-wide 0/1 matrix, as lists
    with pytest.raises(ValueError, match="a 0/1 matrix of 2 columns, but there are 3 labels"):
        as_examples((["a", "b"], [[0, 1], [1, 0]]), **kw)
    with pytest.raises(ValueError, match="ambiguous"):
        as_examples((["a", "b"], [[0, 1], [1, 0]]), multi_label=True, num_classes=2)
    with pytest.raises(ValueError, match="mix label sets .* and single labels"):
        as_examples((["a", "b"], [["fun"], "joy"]), **kw)
    with pytest.raises(ValueError, match=r"1 text\(s\) have no label, at rows \[1\]"):
        as_examples((["a", "b"], ["fun", None]), **kw)
    with pytest.raises(ValueError, match="no label names to map them to"):
        as_examples((["a"], [["fun"]]), multi_label=True)
    with pytest.raises(ValueError, match="number of labels is unknown"):
        as_examples((["a"], [[0]]), multi_label=True)
    with pytest.raises(ValueError, match="pass multi_label=True"):
        as_examples((["a", "b"], [["fun"], ["joy", "anger"]]), label_names=NAMES)
    with pytest.raises(ValueError, match="pass multi_label=True"):
        as_examples(TextDataset(TEXTS, MATRIX, NAMES))
    with pytest.raises(ValueError, match="needs multi_label=True"):
        as_examples((["a"], [0]), label_delimiter="|")
    frame = pd.DataFrame({"text": ["a"], "fun": [1], "sad": [0]})
    with pytest.raises(ValueError, match=r"not among the labels: \['sad'\]; no column for"):
        as_examples(frame, label_column=["fun", "sad"], **kw)
    with pytest.raises(ValueError, match="is a list: one 0/1 column per label is multi-label"):
        as_examples(frame, label_column=["fun", "sad"])


# --- as_examples: pairs -------------------------------------------------------------------

A = ["A man sleeps.", "It rains.", "Cats purr."]
B = ["A man is awake.", "It is wet.", "Cats make sounds."]
Y = [1, 0, 0]


@pytest.mark.parametrize(
    "data",
    [
        ((A, B), Y),
        ((np.array(A), pd.Series(B)), np.array(Y)),
        (list(zip(A, B, strict=True)), Y),
        ([list(p) for p in zip(A, B, strict=True)], Y),
        pd.DataFrame({"sentence1": A, "sentence2": B, "label": Y}),
        TextDataset(A, Y, ["entailment", "not_entailment"], text_pairs=B),
    ],
    ids=["two-lists", "array-series", "tuples", "lists", "dataframe", "textdataset"],
)
def test_as_examples_pair_forms(data):
    ex = as_examples(data, text_column="sentence1", text_pair_column="sentence2")
    assert ex.texts.tolist() == A and ex.text_pairs.tolist() == B and ex.labels.tolist() == Y
    assert ex.labels.dtype == np.int32


def test_pairs_with_label_names_and_text_column_joining():
    frame = pd.DataFrame(
        {"s1": A, "s2": B, "label": ["not_entailment", "entailment", "entailment"]}
    )
    ex = as_examples(
        frame,
        text_column="s1",
        text_pair_column="s2",
        label_names=["entailment", "not_entailment"],
    )
    assert ex.labels.tolist() == Y and ex.text_pairs.tolist() == B
    joined = as_examples(
        frame, text_column=["s1", "s2"], label_names=["entailment", "not_entailment"]
    )
    assert joined.text_pairs is None  # a list of text columns is one text, as before
    assert joined.texts.tolist()[0] == "A man sleeps. A man is awake."


def test_pair_errors():
    with pytest.raises(
        ValueError, match=r"1 text pair\(s\) with an empty side, at rows \[1 \(second text\)\]"
    ):
        as_examples(((["a", "b"], ["c", " "]), [0, 1]), what="train")
    with pytest.raises(ValueError, match=r"at rows \[0 \(first text\), 1 \(both texts\)\]"):
        as_examples(([("", "c"), ("", "")], [0, 1]))
    with pytest.raises(ValueError, match="have 2 and 3 texts"):
        as_examples(((["a", "b"], ["c", "d", "e"]), [0, 1]))
    with pytest.raises(
        ValueError, match=r"pairs and single texts are mixed: rows \[0, 2\] are .* rows \[1\]"
    ):
        as_examples(([("a", "b"), "c", ("d", "e")], [0, 1, 0]))
    with pytest.raises(ValueError, match=r"rows \[1\] hold 3 items"):
        as_examples(([("a", "b"), ("c", "d", "e")], [0, 1]))
    with pytest.raises(ValueError, match="ambiguous texts"):
        as_examples(((("a", "b"), ("c", "d")), [0, 1]))
    frame = pd.DataFrame({"sentence1": A, "sentence2": B, "label": Y})
    with pytest.raises(ValueError, match="text_pair_column='sentence2'"):
        as_examples(frame)
    with pytest.raises(ValueError, match=r"\['nope'\] not found"):
        as_examples(frame, text_column="sentence1", text_pair_column="nope")
    with pytest.raises(TypeError, match="second texts at rows \\[1\\] hold int"):
        check_text_pairs(["a", "b"], ["c", 3], "train")


# --- as_inputs ------------------------------------------------------------------------------


def test_as_inputs_forms():
    assert as_inputs("A man sleeps.") == (["A man sleeps."], None)
    assert as_inputs("A man sleeps.", text_pair="He is awake.") == (
        ["A man sleeps."],
        ["He is awake."],
    )
    assert as_inputs(A) == (A, None)
    assert as_inputs(np.array(A)) == (A, None) and as_inputs(pd.Series(A)) == (A, None)
    assert as_inputs(list(zip(A, B, strict=True))) == (A, B)
    assert as_inputs(A, text_pair=B) == (A, B)
    assert as_inputs(TextDataset(A, Y, ["e", "n"], text_pairs=B)) == (A, B)
    assert as_inputs(TextDataset(A, Y, ["e", "n"])) == (A, None)
    frame = pd.DataFrame({"s1": A, "s2": B, "extra": ["x", "y", "z"]})
    assert as_inputs(frame, text_column="s1", text_pair_column="s2") == (A, B)
    assert as_inputs(frame, text_column="s1") == (A, None)
    assert as_inputs(frame, text_column=["s1", "extra"])[0][0] == "A man sleeps. x"
    assert as_inputs([b"caf\xc3\xa9"]) == (["café"], None)


def test_as_inputs_errors():
    with pytest.raises(TypeError, match="tuple of two lists"):
        as_inputs((A, B))
    with pytest.raises(ValueError, match=r"positions \[0, 2\] are \(a, b\) pairs, positions \[1\]"):
        as_inputs([("a", "b"), "c", ("d", "e")])
    with pytest.raises(ValueError, match=r"at positions \[0 \(second text\)\]"):
        as_inputs([("a", " ")])
    with pytest.raises(ValueError, match="3 first texts but 2 second texts"):
        as_inputs(A, text_pair=B[:2])
    with pytest.raises(TypeError, match="text_pair_column= names a column of a table"):
        as_inputs(A, text_pair_column="s2")
    with pytest.raises(TypeError, match="use text_pair_column"):
        as_inputs(pd.DataFrame({"s1": A}), text_column="s1", text_pair=B)
    with pytest.raises(TypeError, match="carries its own text_pairs"):
        as_inputs(TextDataset(A, Y, ["e", "n"]), text_pair=B)
    with pytest.raises(TypeError, match="one text takes one text_pair str"):
        as_inputs("a", text_pair=["b"])
    with pytest.raises(ValueError, match=r"empty text\(s\), at positions \[1\]"):
        as_inputs(["a", ""])


def test_check_two_classes_on_label_sets():
    from tfx_textzoo.datasets import check_two_classes
    from tfx_textzoo.errors import SingleClassError

    check_two_classes(np.array(MATRIX), NAMES, "train")  # different sets: fine
    with pytest.raises(SingleClassError, match=r"train: all 3 texts have the same labels, \[\]"):
        check_two_classes(np.zeros((3, 3), "int32"), NAMES, "train")
    with pytest.raises(
        SingleClassError, match=r"all 2 texts have the same labels, \['anger', 'joy'\]"
    ):
        check_two_classes(np.array([[1, 0, 1], [1, 0, 1]]), NAMES, "train")
