"""Answerability: one calibrated decision per question, over features that mean the same thing on any corpus.

- answered: the top passage answers it;
- related: the knowledge base has nearby content but does not answer this (the question's informative terms it
  lacks are named as missing_terms);
- out of scope: nothing relevant, or no content at all.

The features compare the question with this corpus only through its own retrieval (scores, their spread, whether
dense and lexical agree), its vocabulary, and generic off-domain probes (kb/data/off_domain_probes.txt) against the
passages and the taxonomy's examples of the field. Two logistic models over them, one for answered-or-not and one
for related-or-out-of-scope, are fitted on labelled questions of several corpora by benchmarks/fit_answerability.py;
their weights live in the embedder's calibration.
A question that names a machine-learning concept of the glossary (kb/data/ml_glossary.tsv), or singles out a term
by quoting it or glossing it in brackets, that the corpus never mentions by any of its names must clear a higher,
fitted threshold to be answered; below it, it is related, naming that concept: a corpus seldom explains what it
never names. Unless the top passage is the corpus's nearest in meaning to that concept alone: then the corpus
discusses it under another name (虚假信息 for 假新闻), in the passage shown. A question about a time window
relative to now (this week's releases) is out of scope whatever the passages say: a corpus is written at one time.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Sequence

import numpy as np

from kb.core.textnorm import STOPWORDS, _jieba, fold, general_idf, mostly_english, tokenize
from kb.core.wordlists import phrases, words
from kb.retrieval.wordbridge import FUNCTION_TAGS

OFF_DOMAIN_LABEL = "_off_domain"
TOP_PASSAGES = 3  # passages whose words count as what the answer says
MAX_MISSING = 3  # missing terms named to the user
REMEMBERED_NAMES = 65536  # mention verdicts kept per build
MAX_JOINED_PARTS = 5  # a longer Latin name is looked up only as written and as one word
SALIENT = 0.6  # a term at least this share of the median IDF is informative enough to name as missing
NOUN_TAGS = ("n", "vn", "eng", "j")  # jieba tags of concept words: nouns (n, nr, nz...), verbal nouns, English, abbreviations
UNLISTED = 0.5  # weight, as a share of the median IDF, of a Chinese word jieba's IDF table lacks (mostly a mis-split)
FEATURES = ("margin", "dense_top", "dense_gap", "agree", "question_match", "coverage_top1", "coverage_top",
            "coverage_corpus", "missing_top", "missing_corpus", "missing_name", "missing_word", "lookup_unstated", "english")
MESSAGES = {
    "not_covered": "知识库没有直接回答这个问题{missing}。(The knowledge base does not answer this directly{missing_en}.)",
    "off_domain": "知识库中没有与这个问题相关的内容。(The knowledge base has nothing relevant to this question.)",
    "time_bound": "知识库的内容写于某个时间点，回答不了关于今天、这周、今年等当下时段的问题。"
                  "(The knowledge base was written at one time and cannot say what is new or current.)",
    "no_content": "这个问题没有可检索的内容，请输入一个关于大模型的问题，例如：为什么训练大模型需要大显存？"
                  "(The question has no searchable content; ask about large language models.)",
}


# A question asking for a price or for when something happened needs a passage that states one.
_ASKS_PRICE = re.compile(r"多少钱|几块钱|多少(?:美元|美金|元)|(?:怎么|如何)(?:收费|计费)|"
                         r"(?:价格|售价|费用|月费|订阅费)(?:是|大概|一般)?多少|\bhow much (?:does|do|is|are)\b.*\bcost|\bprice of\b", re.I)
_ASKS_DATE = re.compile(r"(?:哪一?天|哪一?年|几月|什么时候|何时)[^，,。？?！!]{0,6}?(?:发布|上市|推出|上线|成立|提出|发表|问世)|"
                        r"发布(?:日期|时间)|\brelease date\b|\bwhen (?:was|were|did|will)\b.*\b(?:released?|launch(?:ed)?|founded)\b",
                        re.I)
# A question about a time window relative to now (今天, this week, the last month, right now): a corpus is written at
# one time and cannot say what happened since. "Latest", or English "today", often means no more than "nowadays".
_ASKS_NOW = re.compile(r"(?:最近|近)(?:一|两|几|三|这)?(?:个)?(?:天|周(?!期)|星期|礼拜|月)|这(?:两|几)?(?:天|周(?!期)|个?星期|个?月)|"
                       r"今天|今日|今年|本周|本月|上周|上个?月|明天|明年|昨天|昨晚|刚刚|最近(?![邻鄰似的]|[一两几三五十]*年)|"
                       r"\b(?:tonight|tomorrow|yesterday|this (?:week|month|year)|last (?:week|month)|right now|recently|most recent)\b"
                       r"|\byet\s*(?:\?|$)", re.I)
_STATES_MONEY = re.compile(r"\d[\d,.]*\s*(?:元|美元|美金|块钱|usd|rmb|dollars?)|[$¥￥€]\s*\d", re.I)
_STATES_DATE = re.compile(r"(?:19|20)\d\d\s*年|\d{1,2}\s*月\s*\d{1,2}\s*[日号]|\b(?:19|20)\d\d\b")


def lookup_unstated(question: str, passages: Sequence[str]) -> bool:
    """The question asks for a price or a date and none of the passages states one."""
    joined = "\n".join(passages)
    folded = fold(question)
    return bool((_ASKS_PRICE.search(folded) and not _STATES_MONEY.search(joined))
                or (_ASKS_DATE.search(folded) and not _STATES_DATE.search(joined)))


def asks_now(question: str) -> bool:
    """The clause that asks names a time window relative to now ("今年有哪些新模型？"), which no corpus can speak for;
    one that only sets the scene ("问 GPT 今天的股价，它会怎么处理？") does not."""
    first, last = asking_clause(question, mostly_english(question))
    return bool(_ASKS_NOW.search(fold(question[first:last])))


def off_domain_probes() -> tuple[str, ...]:
    """Everyday questions a knowledge base about LLMs should not answer (kb/data/off_domain_probes.txt)."""
    return phrases("off_domain_probes")


def covered_probes(probe_vectors: np.ndarray, corpus_vectors: np.ndarray, threshold: float,
                   block: int = 65536) -> np.ndarray:
    """Mask of the probes some corpus vector matches at cosine >= threshold (vectors L2-normalized)."""
    best = np.full(len(probe_vectors), -1.0, dtype=np.float32)
    for start in range(0, len(corpus_vectors), block):
        best = np.maximum(best, (corpus_vectors[start:start + block] @ probe_vectors.T).max(axis=0))
    return best >= threshold


_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]+")
_ONE_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9.+\-]*")


def _placeable(concept: str) -> bool:
    """The embedder can place the concept by its meaning: not one Latin word (GRPO), placed by its spelling."""
    return not _ONE_LATIN_WORD.fullmatch(concept.strip())


# A term the asker singles out: quoted, or glossed in Latin script in brackets after its Chinese name.
_QUOTED = re.compile(r"[“「『\"]([^”」』\"\n]{2,16})[”」』\"]")
_CJK_TAIL = re.compile(r"[\u4e00-\u9fff]+\s*$")
_JOINED = re.compile(r"\s*[+&/、]\s*")
GLOSS_WORDS = 2  # jieba words before a bracketed Latin gloss taken as the term's Chinese name
_GLOSSED = re.compile(r"[（(]\s*([A-Za-z][A-Za-z0-9 .+/\-]{1,40}?)\s*[）)]")
# A Chinese name in brackets after what it names (label smoothing（标签平滑）, 一步步推理（思维链）), not an example list.
_GLOSSED_ZH = re.compile(r"[（(]\s*(?!如|例如|比如|即|也就是|包括)([\u4e00-\u9fff]{2,8})\s*[）)]")
_LATIN_TAIL = re.compile(r"[A-Za-z][A-Za-z0-9 .+/\-]*$")
_NAME_LIKE = re.compile(r"[A-Z0-9]")
# What follows a name and makes it a particular one: a version or size (Llama 3.1, GPT-4o, BFCL V2) or a capitalised
# word (Ring Attention).
_QUALIFIER = re.compile(r"(?:[ \-]|\.(?=[0-9]))(?:[0-9][A-Za-z0-9.]*[A-Za-z0-9]|[0-9]|[A-Z][a-z][A-Za-z0-9]*)(?![A-Za-z0-9])")


# A name given as an example, a tool or a place ("像 BPE 这种", "用 HF 的 Trainer", "在 Dify 上") is not what is asked.
_EXAMPLE_BEFORE = re.compile(r"(?:像|比如|例如|譬如|类似|诸如|用|拿|从|通过|基于|借助|在|\blike|\bsuch as|\be\.g\.,?|\busing|\bwith"
                             r"|\bfrom|\bvia|\bon)\s*$", re.I)
_EXAMPLE_AFTER = re.compile(r"^\s*(?:这种|这类|之类|这样|那样|一类|等|上|的\s*\w{0,8}?(?:库|工具|框架|平台))", re.I)


def _name_like(word: str, start: int, question: str, english: bool) -> bool:
    """Written as a name: an inner capital or digit, all capitals (GRPO, vLLM, BF16), or a capitalised word of three
    letters or more (Kubernetes, Claude) in a Chinese question or inside an English sentence."""
    if _NAME_LIKE.search(word[1:]) or (word.isupper() and len(word) >= 2):
        return True
    if not word[0].isupper() or len(word) < 3:
        return False
    return not english or not _SENTENCE_START.search(question[:start])


_SENTENCE_START = re.compile(r"(?:^|[.?!:;\"“(（]\s*)$")


def written_as_names(question: str) -> set[str]:
    """The Latin words of the question written as names, lower-cased."""
    english = mostly_english(question)
    return {m.group(0).lower() for m in _LATIN_WORD.finditer(question) if _name_like(m.group(0), m.start(), question, english)}


_CLAUSE_BREAK = re.compile(r"[。！!，,；;：:]|\.(?=\s)")
_SENTENCE_BREAK = re.compile(r"[。！!：:]|\.(?=\s)")


def asking_clause(question: str, english: bool) -> tuple[int, int]:
    """Span of the clause that asks: the last clause of the first sentence ending in a question mark. Earlier clauses
    set the scene ("我们用 TensorRT 部署，……，为什么…？"); a clause with under two content words of its own
    ("…，怎么办？") asks about the one before it. In English commas join one question's parts, so the sentence counts."""
    mark = re.search(r"[？?]", question)
    end = mark.start() if mark else len(question.rstrip("。.!！ "))
    starts = [0] + [m.end() for m in (_SENTENCE_BREAK if english else _CLAUSE_BREAK).finditer(question, 0, end)]
    while len(starts) > 1 and len(content_words(question[starts[-1]:end])) < 2:
        starts.pop()
    return starts[-1], end


def asked_names(question: str) -> set[str]:
    """The names the question asks about: written as names, in the asking clause, and not given as an example,
    tool or place; a name with its qualifier when it has one (llama 3.1, ring attention)."""
    folded, english = fold(question), mostly_english(question)
    first, last = asking_clause(question, english)
    out, taken = set(), 0
    for m in _LATIN_WORD.finditer(question):
        word = m.group(0)
        if m.start() < taken:  # the qualifier of the name before it
            continue
        if first <= m.start() < last and _name_like(word, m.start(), question, english) and not (
                _EXAMPLE_BEFORE.search(folded[max(0, m.start() - 8):m.start()])
                or _EXAMPLE_AFTER.search(folded[m.end():m.end() + 12])):
            qualifier = _QUALIFIER.match(question, m.end())
            taken = qualifier.end() if qualifier else m.end()
            out.add(question[m.start():taken].lower())
    return out


@lru_cache(maxsize=1024)
def content_words(question: str) -> tuple[tuple[str, str], ...]:
    """(word, part of speech) of the question's content words: jieba's tagged segmentation without stop words,
    function words, punctuation and single characters. Cached: ask() checks for content before deciding."""
    english_stop = words("english_stopwords")
    out = {}
    for word, tag in _tagged(fold(question)):
        tag = "eng" if _LATIN_WORD.search(word) else tag  # F1, H100, kv: a Latin word is a name or a term
        if (len(word) >= 2 and word not in STOPWORDS and word not in english_stop and any(ch.isalnum() for ch in word)
                and (tag == "eng" or not tag.startswith(FUNCTION_TAGS))):
            out.setdefault(word, tag)
    return tuple(out.items())


def salient_terms(question: str, every_word: bool = False) -> dict[str, float]:
    """The question's concept words (nouns and names; every content word when it has none, or when every_word) with
    their general-language IDF: how informative each is. A Latin word jieba's table lacks counts as a typical rare word
    when written as a name (GPTQ, vLLM, H100), for less when written as an ordinary word; a Chinese one jieba
    lacks counts for less too, as it is mostly a mis-split of colloquial text."""
    idf, median = general_idf()
    found = content_words(question)
    nouns = [] if every_word else [w for w, tag in found if tag.startswith(NOUN_TAGS)]
    names = written_as_names(question)
    return {t: idf.get(t, median if t in names else UNLISTED * median) for t in nouns or [w for w, _ in found]}


_SEVERAL_WORDS = re.compile(r"[\s\-]|[A-Za-z][\u4e00-\u9fff]|[\u4e00-\u9fff][A-Za-z]")  # spaced, or mixed scripts


@lru_cache(maxsize=4096)
def _words_of(name: str) -> tuple[str, ...]:
    """A name's words (no '#' bigrams); cached: a question's synonyms are looked up in the top passages, the first
    one and the corpus."""
    return tuple(t for t in tokenize(name) if not t.startswith("#"))


def _contains(tokens: frozenset[str] | set[str] | dict, term: str) -> bool:
    """The term is one of the tokens, or (Chinese) every character bigram of it is: segmentation may differ; a name
    of several words (mixture of experts, transformer架构) when each of its words is."""
    if term in tokens:
        return True
    if _SEVERAL_WORDS.search(term):
        parts = _words_of(term)
        return len(parts) > 1 and all(_contains(tokens, t) for t in parts)
    return not term.isascii() and all("#" + term[i:i + 2] in tokens for i in range(len(term) - 1))


def singled_out(question: str) -> list[tuple[str, list[str]]]:
    """The terms a Chinese question singles out, each with the names it goes by: a quoted term (not a quoted
    utterance: no pronoun or question word), a Latin gloss in brackets with the Chinese words just before it, and a
    Chinese name in brackets with the Latin name just before it, if any."""
    if mostly_english(question):
        return []
    out = []
    for term in _QUOTED.findall(question):
        if not any(tag.startswith("r") for _, tag in _tagged(fold(term))):
            out.append((term, [fold(term)]))
    for match in _GLOSSED.finditer(question):
        before = fold(question[:match.start()]).rstrip()
        run = _CJK_TAIL.search(before)
        words = _tagged(run.group(0)) if run else []
        name: list[str] = []
        while words and len(name) < GLOSS_WORDS and not words[-1][1].startswith(FUNCTION_TAGS):
            name.insert(0, words.pop()[0])
        chinese = "".join(name)
        if _EXAMPLE_BEFORE.search(before[:len(before) - len(chinese)]):
            continue  # 用百川（Baichuan）模型……: an example or a tool, not what is asked
        out.append((match.group(1), [fold(match.group(1))] + ([chinese] if len(chinese) >= 2 else [])))
    for match in _GLOSSED_ZH.finditer(question):
        before = question[:match.start()].rstrip()
        latin = _LATIN_TAIL.search(before)
        named = latin.group(0).strip() if latin else ""
        term = fold(match.group(1))
        if _EXAMPLE_BEFORE.search(fold(before[:len(before) - len(named)])) or any(t.startswith("r") for _, t in _tagged(term)):
            continue
        out.append((term, [term] + ([fold(named)] if named else [])))
    return out


def _tagged(text: str) -> list[tuple[str, str]]:
    _jieba()
    import jieba.posseg

    return [(pair.word.strip(), pair.flag) for pair in jieba.posseg.lcut(text) if pair.word.strip()]


def no_content() -> "Decision":
    """The decision for a question without a single informative word ("？？？", "😀😀😀")."""
    return Decision("out_of_scope", "no_content", MESSAGES["no_content"])


@dataclass(frozen=True)
class Decision:
    status: str  # "answered", "related" or "out_of_scope"
    reason: str | None  # the contract's abstain_reason: None, "not_covered", "off_domain" or "no_content"
    message: str
    missing_terms: list[str] = field(default_factory=list)
    features: dict[str, float] = field(default_factory=dict)
    p_answered: float = 1.0

    @property
    def abstained(self) -> bool:
        return self.status != "answered"


def _logit(model: dict, x: np.ndarray) -> float:
    return float(1.0 / (1.0 + np.exp(-(x @ np.asarray(model["coef"]) + model["intercept"]))))


class Answerability:
    """The answer/abstain decision over one build."""

    def __init__(self, vocab: Sequence[str] | dict, chunk_texts: Sequence[str], chunk_tokens: Sequence[Sequence[str]],
                 probe_vectors: np.ndarray, probe_texts: Sequence[str], tuned: dict,
                 synonyms: Callable[[str], Sequence[str]],
                 concepts: Callable[[str], Sequence[tuple[str, Sequence[str]]]],
                 chunks_with: Callable[[str], Sequence[int]], field_vectors: np.ndarray | None = None,
                 nearest_chunk: Callable[[str], int | None] | None = None) -> None:
        self.vocab = vocab
        self.chunk_texts = chunk_texts
        self.concepts = concepts  # a question -> the glossary concepts it names: (its name for one, all of its names)
        self.absent_concepts = lru_cache(maxsize=1024)(self.absent_concepts)  # read before embedding and when deciding
        self.nearest_chunk = nearest_chunk  # a term -> the position of the chunk nearest in meaning to it alone
        self._mentioned: dict[tuple[str, ...], bool] = {}
        self._chunks_with = chunks_with  # a token -> the chunks whose tokens include it (the lexical postings)
        self.chunk_tokens = chunk_tokens
        self.tuned = tuned
        self.synonyms = synonyms  # a term -> corpus words of the same meaning (glossary, translations, word bridge)
        chinese = np.array([not mostly_english(t) for t in probe_texts], dtype=bool)
        self.probe_vectors = probe_vectors
        self.chinese_probe_vectors = probe_vectors[chinese] if len(probe_texts) else probe_vectors
        # the taxonomy's examples of the field: question-shaped like the probes, so a short "什么是X？" is measured
        # against both alike, not against long passages on one side only
        self.field_vectors = field_vectors if field_vectors is not None else np.zeros((0, probe_vectors.shape[1]), np.float32)

    def decide(self, question: str, qvec: np.ndarray, positions: Sequence[int], dense_head: Sequence[float],
               agree: bool, question_match: float) -> Decision:
        """The decision for a question, given its retrieval: ranked chunk positions, the best dense cosines in
        order, whether dense and BM25 put the same chunk first, and the best FAQ-question cosine."""
        terms = salient_terms(question, every_word=True)  # a verb or a fixed phrase can be what the corpus lacks (拒答)
        if not terms:
            return no_content()
        if not positions:
            return Decision("out_of_scope", "off_domain", MESSAGES["off_domain"])
        absent = [name for name in self.absent_concepts(question) if not self.discussed_in(name, positions[0])]
        features, missing = self.features(question, qvec, terms, positions, dense_head, agree, question_match, absent)
        features["absent_concept"] = float(bool(absent))  # these two gate the model's threshold, so not among FEATURES
        features["asks_now"] = float(asks_now(question))
        if "answered" not in self.tuned:  # not fitted yet (benchmarks/fit_answerability.py): answer everything
            return Decision("answered", None, "", [], features)
        x = (np.array([features[f] for f in self.tuned["features"]]) - self.tuned["mean"]) / self.tuned["scale"]
        p = _logit(self.tuned["answered"], x)
        if features["asks_now"]:  # whatever the passages say, they cannot speak for now; nearer everyday life, it is just that
            everyday = features["margin"] < 0
            return Decision("out_of_scope", "off_domain", MESSAGES["off_domain" if everyday else "time_bound"], [], features, p)
        doubted = self.tuned["answered"].get("absent_concept_threshold", 1.0)  # the bar when evidence speaks against
        if absent and p < doubted:  # a named concept the corpus lacks: in the field, so related whatever the margin
            return self.related(absent, features, p)
        floors = self.tuned.get("margin_floor")  # closer to everyday questions than almost any answerable one
        floored = self.tuned["answered"].get("margin_floor_threshold", doubted)  # the bar below the margin floor
        if floors is not None and features["margin"] < floors["en" if features["english"] else "zh"] and p < floored:
            return Decision("out_of_scope", "off_domain", MESSAGES["off_domain"], [], features, p)
        if p >= self.tuned["answered"]["threshold"]:
            return Decision("answered", None, "", [], features, p)
        if _logit(self.tuned["related"], x) >= 0.5:
            return self.related(missing, features, p)
        return Decision("out_of_scope", "off_domain", MESSAGES["off_domain"], [], features, p)

    @staticmethod
    def related(missing: list[str], features: dict[str, float], p: float) -> Decision:
        shown = "、".join(missing)
        return Decision("related", "not_covered", MESSAGES["not_covered"].format(
            missing=f"（没有提到：{shown}）" if missing else "", missing_en=f" (no mention of: {shown})" if missing else ""),
            missing, features, p)

    def absent_concepts(self, question: str) -> list[str]:
        """The glossary concepts the question names (as it names them), and the terms it quotes or glosses, that the
        corpus mentions by none of their names."""
        out = []
        for asked, names in [*self.concepts(question), *singled_out(question)]:
            if not self._named(*names) and asked not in out:
                out.append(asked)
        return out[:MAX_MISSING]

    def concepts_to_place(self, question: str) -> list[str]:
        """The absent concepts whose nearest chunk discussed_in reads: not one Latin word (GRPO), which the embedder
        places by its spelling."""
        return [c for c in self.absent_concepts(question) if _placeable(c)]

    def discussed_in(self, concept: str, position: int) -> bool:
        """The chunk at position is the corpus's nearest in meaning to the concept alone: it discusses the concept,
        whatever it calls it (only for a concept that concepts_to_place gives)."""
        if self.nearest_chunk is None or not _placeable(concept):
            return False
        return self.nearest_chunk(concept) == position

    def _named(self, *names: str) -> bool:
        """The corpus mentions one of the names (remembered per build, within a bound: names come from user input)."""
        if names not in self._mentioned:
            if len(self._mentioned) >= REMEMBERED_NAMES:
                self._mentioned.clear()
            self._mentioned[names] = any(self.mentions(n) for n in names)
        return self._mentioned[names]

    def mentions(self, name: str) -> bool:
        """The corpus uses the name: a Chinese one as a word or an unbroken chain of its character bigrams, a Latin one
        as a whole phrase (plural or hyphenated too), a joined one (预训练+微调) by each of its parts."""
        if _JOINED.search(name):
            return all(self.mentions(part) for part in _JOINED.split(name) if part.strip())
        return self._mentions(name.strip())

    def _mentions(self, name: str) -> bool:
        if not _LATIN_WORD.search(name):
            return _contains(self.vocab, name)
        parts = [w for w in re.split(r"[\s\-]+", fold(name)) if w]
        phrase = re.compile(r"(?<![a-z0-9])" + r"[\s\-]?".join(map(re.escape, parts)) + r"s?(?![a-z0-9])")
        return any(phrase.search(unicodedata.normalize("NFKC", self.chunk_texts[i]).lower())
                   for i in self._phrase_candidates(parts))

    def _phrase_candidates(self, parts: list[str]) -> list[int]:
        """The chunks that can hold a Latin phrase, from the lexical postings rather than a scan of the corpus text:
        for each way of writing adjacent words as one (byte-pair, bytepair), the chunks with all of its tokens."""
        def having(token: str) -> set[int]:
            return {int(i) for t in (token, token + "s") for i in self._chunks_with(t)}

        found: set[int] = set()
        joins = range(2 ** (len(parts) - 1)) if len(parts) <= MAX_JOINED_PARTS else (0, 2 ** (len(parts) - 1) - 1)
        for mask in joins:
            runs = [parts[0]]
            for k, word in enumerate(parts[1:]):
                runs[-1:] = [runs[-1] + word] if mask >> k & 1 else [runs[-1], word]
            tokens = [t for run in runs for t in tokenize(run) if not t.startswith("#")]
            if tokens:  # all stop words: the tokenizer dropped them and they cannot narrow
                found |= set.intersection(*map(having, tokens))
        return sorted(found)

    def features(self, question: str, qvec: np.ndarray, terms: dict[str, float], positions: Sequence[int],
                 dense_head: Sequence[float], agree: bool, question_match: float,
                 absent: Sequence[str] = ()) -> tuple[dict[str, float], list[str]]:
        """The model's inputs, and the informative terms neither the top passages nor their synonyms contain. The words
        of a concept the corpus never names (absent) count as missing wherever they occur alone: 混合 and 专家 do not
        cover 混合专家."""
        english = mostly_english(question)
        probes = self.chinese_probe_vectors if english else self.probe_vectors
        dense_top = float(dense_head[0]) if len(dense_head) else -1.0
        best_probe = float((probes @ qvec.reshape(-1)).max()) if len(probes) else 0.0
        best_field = float((self.field_vectors @ qvec.reshape(-1)).max()) if len(self.field_vectors) else -1.0
        head = list(dense_head[1:10])
        top = set().union(*(self.chunk_tokens[p] for p in positions[:TOP_PASSAGES]))
        first = set(self.chunk_tokens[positions[0]])
        found_top, found_first, found_corpus = {}, {}, {}
        unnamed = [fold(name) for name in absent]
        rest = fold(question)
        for name in unnamed:
            rest = rest.replace(name, " ")
        for term in terms:
            if any(term in name for name in unnamed) and term not in rest:
                found_top[term] = found_first[term] = found_corpus[term] = False
                continue
            near = [term, *self.synonyms(term)] + ([term[:-1]] if term.isascii() and term.endswith("s") else [])
            found_top[term] = any(_contains(top, w) for w in near)
            found_first[term] = any(_contains(first, w) for w in near)
            found_corpus[term] = any(_contains(self.vocab, w) for w in near)
        total = sum(terms.values())

        def share(found: dict[str, bool]) -> float:
            return sum(w for t, w in terms.items() if found[t]) / total

        idf, unseen = general_idf()

        def most_informative_missing(found: dict[str, bool], only: Callable[[str], bool] = lambda t: True) -> float:
            return max((w / unseen for t, w in terms.items() if not found[t] and only(t)), default=0.0)

        names = asked_names(question)

        missing = sorted((t for t in terms if not found_top[t] and terms[t] >= SALIENT * unseen),
                         key=lambda t: (-terms[t], -len(t)))
        missing = [t for t in missing if not any(t != m and t in m for m in missing)][:MAX_MISSING]
        return {
            "margin": max(dense_top, best_field) - best_probe,
            "dense_top": dense_top,
            "dense_gap": dense_top - (float(np.mean(head)) if head else dense_top),
            "agree": float(agree),
            "question_match": float(question_match),
            "coverage_top1": share(found_first),
            "coverage_top": share(found_top),
            "coverage_corpus": share(found_corpus),
            "missing_top": most_informative_missing(found_top),
            "missing_corpus": most_informative_missing(found_corpus),
            "missing_word": most_informative_missing(found_corpus, lambda t: not t.isascii() and t in idf),
            "missing_name": float(any(not found_corpus[n] if n in terms else not self._named(n) for n in names)),
            "lookup_unstated": float(lookup_unstated(question, [self.chunk_texts[p] for p in positions[:TOP_PASSAGES]])),
            "english": float(english),
        }, missing
