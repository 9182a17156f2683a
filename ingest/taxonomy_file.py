"""A taxonomy of one's own: taxonomy.yaml / taxonomy.json read, checked, edited and written atomically.

    categories:
      - id: pretraining          # letters, digits, -, _ or CJK; no spaces; unique
        name: 预训练              # shown on the page and in `kb ask --json`; unique
        description: 语料、目标函数与训练过程   # optional
        examples:                # optional sentences that belong to the category
          - 大模型在海量无标注文本上做自监督训练。

Every sentence the vote embeds is "name：sentence" (as for the `000_…txt` style); the description counts as one
more example, and a category with neither is represented by its name alone.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Iterable

from kb.core.errors import BadInput

from .taxonomy import Category, Example, Taxonomy
from .taxonomy import load_taxonomy as load_text_taxonomy

STRUCTURED_SUFFIXES = (".yaml", ".yml", ".json")
CORPUS_NAMES = ("taxonomy.yaml", "taxonomy.yml", "taxonomy.json")  # looked for in the corpus folder (not below)
_ID = re.compile(r"^[A-Za-z0-9\u4e00-\u9fff][A-Za-z0-9_\-\u4e00-\u9fff]{0,63}$")
_KEYS = {"id", "name", "description", "examples"}


def parse_document(doc: Any, source: str) -> Taxonomy:
    """The taxonomy a parsed YAML/JSON document describes; BadInput naming the first thing wrong."""
    if not isinstance(doc, dict):
        raise BadInput(f"{source}: the file must be a mapping with a 'categories' list, got {type(doc).__name__}")
    items = doc.get("categories")
    if not isinstance(items, list):
        raise BadInput(f"{source}: 'categories' must be a list of categories (each with id and name)")
    if len(items) < 2:
        raise BadInput(f"{source}: {len(items)} categories; a taxonomy needs at least 2")
    categories, seen_ids, seen_names = [], set(), set()
    for n, item in enumerate(items, 1):
        category = _category(item, f"{source}: category {n}")
        if category.id in seen_ids:
            raise BadInput(f"{source}: category {n}: id {category.id!r} is used twice; ids must be unique")
        if category.name in seen_names:
            raise BadInput(f"{source}: category {n}: name {category.name!r} is used twice; names must be unique")
        seen_ids.add(category.id)
        seen_names.add(category.name)
        categories.append(category)
    examples = tuple(Example(c.id, text) for c in categories for text in embedded_examples(c))
    canonical = json.dumps(document(categories), ensure_ascii=False, sort_keys=True)
    return Taxonomy(tuple(categories), examples, source, hashlib.sha256(canonical.encode("utf-8")).hexdigest())


def _category(item: Any, where: str) -> Category:
    if not isinstance(item, dict):
        raise BadInput(f"{where}: must be a mapping with id and name, got {type(item).__name__}")
    unknown = set(item) - _KEYS
    if unknown:
        raise BadInput(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}; allowed: id, name, description, examples")
    cid, name = item.get("id"), item.get("name")
    if cid is None or (isinstance(cid, str) and not cid.strip()):
        raise BadInput(f"{where}: missing id")
    if not isinstance(cid, str) or not _ID.match(cid.strip()):
        raise BadInput(f"{where}: id {cid!r} must be 1-64 letters, digits, CJK, '-' or '_' (not starting with '-' or '_')")
    if not isinstance(name, str) or not name.strip():
        raise BadInput(f"{where} ({cid}): missing name")
    description = item.get("description") or ""
    if not isinstance(description, str):
        raise BadInput(f"{where} ({cid}): description must be text")
    examples = item.get("examples") or []
    if not isinstance(examples, list) or not all(isinstance(e, str) for e in examples):
        raise BadInput(f"{where} ({cid}): examples must be a list of sentences")
    kept = tuple(dict.fromkeys(" ".join(e.split()) for e in examples if e.strip()))
    return Category(cid.strip(), " ".join(name.split()), " ".join(description.split()), kept)


def embedded_examples(category: Category) -> list[str]:
    """The texts the vote embeds for a category: "name：sentence" for its description and each example."""
    sentences = dict.fromkeys(([category.description] if category.description else []) + list(category.examples))
    return [f"{category.name}：{s}" for s in sentences] or [category.name]  # (a `000_…txt` description is its 1st example)


def document(categories: Iterable[Category]) -> dict:
    """The YAML/JSON document of a list of categories (empty fields left out)."""
    out = []
    for c in categories:
        item: dict[str, Any] = {"id": c.id, "name": c.name}
        if c.description:
            item["description"] = c.description
        if c.examples:
            item["examples"] = list(c.examples)
        out.append(item)
    return {"categories": out}


def load_taxonomy(path: Path) -> Taxonomy:
    """A taxonomy file of either kind: .yaml/.yml/.json, or the `000_…txt` style."""
    return read_taxonomy_file(path) if Path(path).suffix.lower() in STRUCTURED_SUFFIXES else load_text_taxonomy(Path(path))


def read_taxonomy_file(path: Path) -> Taxonomy:
    """Read and check a .yaml/.yml/.json taxonomy; every problem is a BadInput naming the file."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise BadInput(f"cannot read the taxonomy file {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise BadInput(f"taxonomy file {path} is not UTF-8 text") from exc
    return parse_document(_load(text, Path(path)), Path(path).name)


def _load(text: str, path: Path) -> Any:
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except ValueError as exc:
            raise BadInput(f"{path.name} is not valid JSON: {exc}") from exc
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise BadInput(f"{path.name} is not valid YAML: {' '.join(str(exc).split())}") from exc


def write_taxonomy_file(path: Path, categories: Iterable[Category]) -> Taxonomy:
    """Check the categories, then write them (YAML or JSON by the suffix) through a temporary file swapped in with
    os.replace, so a failed write leaves the previous file as it was."""
    path = Path(path)
    if path.suffix.lower() not in STRUCTURED_SUFFIXES:
        raise BadInput(f"taxonomy file {path} must end in .yaml, .yml or .json")
    doc = document(categories)
    taxonomy = parse_document(doc, path.name)
    if path.suffix.lower() == ".json":
        text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    else:
        import yaml

        text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=1000)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return taxonomy


# ---- edits (the page's; each returns a new list and leaves the input alone) ---------------------------------
def add_category(categories: list[Category], name: str, description: str = "") -> list[Category]:
    """A new category at the end, its id made from the name (ASCII words) or numbered."""
    name = " ".join((name or "").split())
    if not name:
        raise BadInput("a new category needs a name")
    if any(c.name == name for c in categories):
        raise BadInput(f"a category named {name!r} already exists")
    taken = {c.id for c in categories}
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:40]
    cid = slug if slug and _ID.match(slug) and slug not in taken else next(
        f"topic_{n}" for n in range(len(categories) + 1, 10_000) if f"topic_{n}" not in taken)
    return [*categories, Category(cid, name, " ".join(description.split()))]


def rename_category(categories: list[Category], category_id: str, name: str) -> list[Category]:
    """The category keeps its id (so corrections and labels still apply) and takes the new name."""
    name = " ".join((name or "").split())
    if not name:
        raise BadInput("a category name cannot be empty")
    if any(c.name == name and c.id != category_id for c in categories):
        raise BadInput(f"a category named {name!r} already exists")
    return [Category(c.id, name, c.description, c.examples) if c.id == category_id else c for c in _known(categories, category_id)]


def remove_category(categories: list[Category], category_id: str) -> list[Category]:
    """Without the category; at least two must remain."""
    rest = [c for c in _known(categories, category_id) if c.id != category_id]
    if len(rest) < 2:
        raise BadInput("a taxonomy needs at least 2 categories; add another before removing this one")
    return rest


def add_examples(categories: list[Category], category_id: str, text: str) -> list[Category]:
    """The category with one more example per non-empty line of text (repeats ignored)."""
    lines = [" ".join(line.split()) for line in (text or "").splitlines() if line.strip()]
    if not lines:
        raise BadInput("write at least one example sentence (one per line)")
    return [Category(c.id, c.name, c.description, tuple(dict.fromkeys([*c.examples, *lines]))) if c.id == category_id else c
            for c in _known(categories, category_id)]


def _known(categories: list[Category], category_id: str) -> list[Category]:
    if not any(c.id == category_id for c in categories):
        raise BadInput(f"unknown category {category_id!r}; known: {', '.join(c.id for c in categories)}")
    return list(categories)


def from_suggestions(suggested: Iterable[Any]) -> list[Category]:
    """Suggested categories (kb/answering/suggest.py) as a taxonomy to edit: their ids, names and example sentences."""
    out: list[Category] = []
    for s in suggested:
        name = s.name or s.id
        if any(c.name == name for c in out):  # two clusters named by the same words
            name = f"{name} ({s.id})"
        out.append(Category(s.id, name, "", tuple(dict.fromkeys(e for e in s.examples if e.strip()))))
    return out
