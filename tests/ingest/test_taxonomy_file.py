"""taxonomy.yaml / taxonomy.json: read, checked with messages that say what is wrong, edited, written atomically."""
import json
import os

import pytest
import yaml

from ingest.build import OVERRIDE_TAXONOMY, split_taxonomy, taxonomy_target
from ingest.load import load_corpus
from ingest.taxonomy_file import (
    add_category,
    add_examples,
    from_suggestions,
    load_taxonomy,
    parse_document,
    read_taxonomy_file,
    remove_category,
    rename_category,
    write_taxonomy_file,
)
from kb.answering.suggest import SuggestedCategory
from kb.core.errors import BadInput
from tests.conftest import DATA, SEED, settings

YAML = """\
# a cooking taxonomy
categories:
  - id: dishes
    name: 家常菜
    description: 炒菜、炖菜与饺子
    examples:
      - 红烧肉和番茄炒蛋的做法
  - id: baking
    name: 烘焙
"""


def test_a_yaml_taxonomy_gives_categories_and_name_prefixed_examples(tmp_path):
    (tmp_path / "taxonomy.yaml").write_text(YAML, encoding="utf-8")
    tax = load_taxonomy(tmp_path / "taxonomy.yaml")
    assert [(c.id, c.name) for c in tax.categories] == [("dishes", "家常菜"), ("baking", "烘焙")]
    assert [(e.topic, e.text) for e in tax.examples] == [
        ("dishes", "家常菜：炒菜、炖菜与饺子"), ("dishes", "家常菜：红烧肉和番茄炒蛋的做法"), ("baking", "烘焙")]
    assert tax.source == "taxonomy.yaml" and tax.name_of("baking") == "烘焙"


def test_json_and_yaml_of_the_same_categories_are_the_same_taxonomy(tmp_path):
    yaml_tax = parse_document(yaml.safe_load(YAML), "t")
    (tmp_path / "taxonomy.json").write_text(json.dumps(yaml.safe_load(YAML), ensure_ascii=False))
    assert read_taxonomy_file(tmp_path / "taxonomy.json").sha256 == yaml_tax.sha256


@pytest.mark.parametrize("text, message", [
    ("- a\n- b\n", "must be a mapping with a 'categories' list"),
    ("categories: {a: b}\n", "'categories' must be a list"),
    ("categories:\n  - {id: a, name: A}\n", "1 categories; a taxonomy needs at least 2"),
    ("categories:\n  - {name: A}\n  - {id: b, name: B}\n", "category 1: missing id"),
    ("categories:\n  - {id: a}\n  - {id: b, name: B}\n", "category 1 (a): missing name"),
    ("categories:\n  - {id: a, name: A}\n  - {id: a, name: B}\n", "id 'a' is used twice"),
    ("categories:\n  - {id: a, name: A}\n  - {id: b, name: A}\n", "name 'A' is used twice"),
    ("categories:\n  - {id: a b, name: A}\n  - {id: b, name: B}\n", "id 'a b' must be"),
    ("categories:\n  - {id: a, name: A, examples: oops}\n  - {id: b, name: B}\n", "examples must be a list"),
    ("categories:\n  - {id: a, name: A, colour: red}\n  - {id: b, name: B}\n", "unknown key(s) colour"),
    ("categories:\n  - [a, A]\n  - {id: b, name: B}\n", "category 1: must be a mapping"),
    ("categories: [\n", "not valid YAML"),
    ("", "must be a mapping"),
])
def test_a_bad_taxonomy_file_is_a_message_naming_the_problem(tmp_path, text, message):
    path = tmp_path / "taxonomy.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BadInput, match="taxonomy.yaml") as err:
        load_taxonomy(path)
    assert message in str(err.value)


def test_bad_json_and_a_txt_without_categories_are_messages(tmp_path):
    (tmp_path / "taxonomy.json").write_text("{categories: ", encoding="utf-8")
    with pytest.raises(BadInput, match="not valid JSON"):
        load_taxonomy(tmp_path / "taxonomy.json")
    (tmp_path / "t.txt").write_text("just some text", encoding="utf-8")
    with pytest.raises(BadInput, match="at least 2 are needed"):
        load_taxonomy(tmp_path / "t.txt")


def test_edits_add_rename_remove_and_add_examples(tmp_path):
    cats = list(parse_document(yaml.safe_load(YAML), "t").categories)
    cats = add_category(cats, "Drinks")
    cats = add_category(cats, "甜点")
    assert [c.id for c in cats] == ["dishes", "baking", "drinks", "topic_4"]
    cats = rename_category(cats, "drinks", "饮品")
    cats = add_examples(cats, "drinks", "奶茶怎么做\n\n  手冲咖啡的水温  \n奶茶怎么做")
    cats = remove_category(cats, "topic_4")
    path = tmp_path / "taxonomy.yaml"
    written = write_taxonomy_file(path, cats)
    again = load_taxonomy(path)
    assert again.sha256 == written.sha256
    drinks = next(c for c in again.categories if c.id == "drinks")
    assert drinks.name == "饮品" and drinks.examples == ("奶茶怎么做", "手冲咖啡的水温")
    assert [p.name for p in tmp_path.iterdir()] == ["taxonomy.yaml"], "no temporary file is left behind"


@pytest.mark.parametrize("edit, message", [
    (lambda c: add_category(c, "  "), "needs a name"),
    (lambda c: add_category(c, "烘焙"), "already exists"),
    (lambda c: rename_category(c, "dishes", "烘焙"), "already exists"),
    (lambda c: rename_category(c, "nope", "X"), "unknown category 'nope'"),
    (lambda c: remove_category(c, "baking"), "at least 2 categories"),
    (lambda c: add_examples(c, "baking", "\n  \n"), "at least one example"),
])
def test_a_bad_edit_is_a_message_and_changes_nothing(edit, message):
    cats = list(parse_document(yaml.safe_load(YAML), "t").categories)
    before = list(cats)
    with pytest.raises(BadInput, match=message):
        edit(cats)
    assert cats == before


def test_a_bad_write_leaves_the_previous_file(tmp_path):
    path = tmp_path / "taxonomy.yaml"
    path.write_text(YAML, encoding="utf-8")
    cats = list(load_taxonomy(path).categories)
    with pytest.raises(BadInput):
        write_taxonomy_file(path, cats[:1])
    assert path.read_text(encoding="utf-8") == YAML


def test_suggested_categories_become_an_editable_taxonomy(tmp_path):
    suggested = [SuggestedCategory("s01", "烘焙、蛋糕", ["烘焙"], 2, ["蛋糕烤箱温度"], []),
                 SuggestedCategory("s02", "烘焙、蛋糕", ["菜"], 3, ["红烧肉", "红烧肉"], [])]
    taxonomy = write_taxonomy_file(tmp_path / "taxonomy.json", from_suggestions(suggested))
    assert [c.name for c in taxonomy.categories] == ["烘焙、蛋糕", "烘焙、蛋糕 (s02)"]
    assert taxonomy.categories[1].examples == ("红烧肉",)


def test_the_first_taxonomy_found_wins(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for f in (DATA / "cooking").iterdir():
        (corpus / f.name).write_bytes(f.read_bytes())
    (corpus / "000_seed.txt").write_bytes(next(SEED.glob("000_*")).read_bytes())
    s = settings(tmp_path / "index", corpus)
    docs, _ = load_corpus(corpus)
    tax, searchable = split_taxonomy(docs, settings=s)
    assert tax.source == "000_seed.txt" and "000_seed.txt" not in [d.source for d in searchable]
    (corpus / "taxonomy.yaml").write_text(YAML, encoding="utf-8")
    tax, searchable = split_taxonomy(docs, settings=s)
    assert tax.source == "taxonomy.yaml" and "000_seed.txt" not in [d.source for d in searchable]
    (tmp_path / "index").mkdir()
    (tmp_path / "index" / OVERRIDE_TAXONOMY).write_text(YAML.replace("烘焙", "面点"), encoding="utf-8")
    assert split_taxonomy(docs, settings=s)[0].name_of("baking") == "面点"
    outside = tmp_path / "mine.json"
    outside.write_text(json.dumps({"categories": [{"id": "x", "name": "X"}, {"id": "y", "name": "Y"}]}))
    assert [c.id for c in split_taxonomy(docs, settings=s.replace(taxonomy_file=str(outside)))[0].categories] == ["x", "y"]
    with pytest.raises(BadInput, match="does not exist"):
        split_taxonomy(docs, settings=s.replace(taxonomy_file=str(tmp_path / "missing.yaml")))
    (corpus / "taxonomy.json").write_text("{}")
    with pytest.raises(BadInput, match="keep one taxonomy file"):
        split_taxonomy(docs, settings=s)


def test_the_page_saves_to_the_corpus_else_to_the_index_folder(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    assert taxonomy_target(settings(tmp_path / "index", corpus)) == corpus / "taxonomy.yaml"
    assert taxonomy_target(settings(tmp_path / "index", SEED)) == tmp_path / "index" / OVERRIDE_TAXONOMY, \
        "the shipped corpus is left as shipped"
    if os.geteuid() != 0:  # root writes anywhere
        corpus.chmod(0o555)
        try:
            assert taxonomy_target(settings(tmp_path / "index", corpus)) == tmp_path / "index" / OVERRIDE_TAXONOMY
        finally:
            corpus.chmod(0o755)
    with pytest.raises(BadInput, match="cannot write"):
        taxonomy_target(settings(tmp_path / "index", corpus, taxonomy_file=str(tmp_path / "t.txt")))
