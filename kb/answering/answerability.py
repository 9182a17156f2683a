"""Is a question in scope? Nearest-neighbour against the corpus versus a fixed set of off-domain probe questions.

A question that looks more like everyday off-domain questions (cooking, weather, sport, shopping, travel...)
than like anything in the corpus is out of scope. The probes are generic and never edited to fit an eval set.
"""
from __future__ import annotations

import re
from typing import Callable, Sequence

import numpy as np

from kb.core.textnorm import fold, mostly_english, tokenize
from kb.core.wordlists import phrases

OFF_DOMAIN_LABEL = "_off_domain"
LOOKUP_PASSAGES = 3  # a price/date question needs one of the best few passages to state a price/date
ABSTAIN_MESSAGES = {
    "no_match": "知识库中没有与这个问题相关的内容。(The knowledge base has nothing relevant to this question.)",
    "off_domain": "知识库中没有与这个问题相关的内容。(The knowledge base has nothing relevant to this question.)",
    "no_price": "知识库中没有价格或费用信息，无法回答这个问题。(The knowledge base states no prices.)",
    "no_date": "知识库中没有相关的日期信息，无法回答这个问题。(The knowledge base states no such date.)",
    "unknown_name": "知识库中没有提到 {name}，无法回答这个问题。(The knowledge base does not mention {name}.)",
}


def off_domain_probes() -> tuple[str, ...]:
    """Everyday questions a knowledge base about LLMs should not answer (kb/data/off_domain_probes.txt)."""
    return phrases("off_domain_probes")


def scope_margin(dense_top: float, qvec: np.ndarray, probe_vectors: np.ndarray) -> float:
    """Best corpus cosine minus best off-domain-probe cosine: negative means the question looks off-domain."""
    if len(probe_vectors) == 0:
        return dense_top
    return float(dense_top - float((probe_vectors @ qvec.reshape(-1)).max()))


def covered_probes(probe_vectors: np.ndarray, corpus_vectors: np.ndarray, threshold: float,
                   block: int = 65536) -> np.ndarray:
    """Mask of the probes some corpus vector matches at cosine >= threshold (vectors L2-normalized)."""
    best = np.full(len(probe_vectors), -1.0, dtype=np.float32)
    for start in range(0, len(corpus_vectors), block):
        best = np.maximum(best, (corpus_vectors[start:start + block] @ probe_vectors.T).max(axis=0))
    return best >= threshold


# ---- factual look-ups the corpus cannot answer ---------------------------------------------------------
# A question that asks for a price or a date can only be answered from a passage that states one, and a
# question about a numbered product (H100, RTX 4090, Llama 3 70B) only from a passage that names it. These
# near-domain questions ("ChatGPT Plus 每月多少钱", "GPT-5 哪天发布") sit close to the corpus in embedding
# space, so the probe margin alone cannot catch them; checking what the best passages actually contain can.
_ASKS_PRICE = re.compile(
    r"多少钱|几块钱|多少(?:美元|美金|元)|(?:怎么|如何)(?:收费|计费)|收费标准|计费(?:方式|标准|规则)|收多少|融资了?多少|估值最高|"
    r"(?:价格|价钱|售价|股价|估值|市值|订阅费|月费|年费|费用)(?:是|大概|大约|现在|目前|一般)?(?:多少|几何|多高)|"
    r"\bhow much (?:does|do|is|are|will)\b.*\bcost|\bwhat(?:'s| is) the (?:price|pricing|cost) of\b|\bpricing (?:of|for)\b",
    re.I)
# A date asked for about an event (release, launch, founding), not "哪天能取代程序员".
_ASKS_DATE = re.compile(
    r"(?:哪一?天|哪一?年|几月|什么时候|什么时间|何时)[^，,。？?！!]{0,6}?(?:发布|上市|推出|开售|上线|发行|成立|提出|发表|诞生|问世)|"
    r"发布日期|发布时间|上市时间|\brelease date\b|"
    r"\bwhen (?:was|were|did|will|is|does)\b.*\b(?:released?|launch(?:ed)?|come out|came out|founded|introduced|proposed)\b", re.I)
_ASKS_AMOUNT = re.compile(r"多少|多长|多大|多高|多重|几个|几[瓦卡张天年]|\bhow (?:many|much|long|big|large|fast)\b", re.I)
_STATES_MONEY = re.compile(r"\d[\d,.]*\s*(?:元|美元|美金|块钱|刀|usd|rmb|dollars?)|[$¥￥€]\s*\d", re.I)
_STATES_DATE = re.compile(r"(?:19|20)\d\d\s*年|\d{1,2}\s*月\s*\d{1,2}\s*[日号]|\b(?:19|20)\d\d[-/.]\d{1,2}\b|\b(?:19|20)\d\d\b")
# A model or product name with a number in it: H100, GPT-5, A100-80G, RTX 4090, Llama 3 70B, 文心一言 4.0.
_PRODUCT = re.compile(r"(?<![A-Za-z0-9])(?:[A-Za-z]+-?\d+(?:\.\d+)?[A-Za-z]*|[A-Z][A-Za-z]*\s\d+(?:\.\d+)?[A-Za-z]*"
                      r"|[\u4e00-\u9fff]{2,}\s?\d+\.\d+)(?:[\s-]\d+[A-Za-z]+)?(?![A-Za-z0-9])")


# ---- questions about a name the corpus never mentions -----------------------------------------------------
# "LoRA 的秩 r 设多少", "FlashAttention 为什么更快", "Kimi 和豆包哪个好": near-domain, so they pass the probe
# margin, and the nearest passage (fine-tuning, attention) answers a different question. A question is about a
# name unless the name is given as an example, a tool, a place or a source ("像 Qwen 这样的大模型", "用 Gemini 来
# 初筛简历", "在 Dify 上搭的客服", "从 Kaggle 下载的数据"); then the general question underneath is answered.
_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[._@+\-][A-Za-z0-9]+)*|\d+(?:\.\d+)?[A-Za-z0-9]*")
_CAMEL_PART = re.compile(r"[A-Z]{2,}(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
# Capitalised words that are ordinary words in Chinese text ("学习 App"), and acronyms too general to be a name.
_COMMON_WORDS = frozenset({"app", "apps", "prompt", "prompts", "token", "tokens", "agent", "agents", "bot", "bots",
                           "demo", "bug", "ok", "wifi", "email", "pdf", "excel", "word"})
_GENERIC_ACRONYMS = frozenset({"LLM", "LLMS", "API", "APIS", "GPU", "GPUS", "TPU", "CPU", "NLP", "URL", "HTML", "FAQ",
                               "AI", "AIGC", "SDK", "APP"})
_INCIDENTAL_BEFORE = re.compile(
    r"(?:像|比如|例如|譬如|类似|好比|诸如|用|拿|从|把|通过|基于|借助|一张|一台|一个|\blike|\bsuch as|\be\.g\.,?|\busing"
    r"|\bon|\bwith|\bfrom|\bvia|\bis an?)\s*$", re.I)
_INCIDENTAL_AFTER = re.compile(r"^\s*(?:这种|这类|之类|这样|那样|一类|一样|等)")
# the rest of a list the name opens: "Grammarly、Jasper 这类工具" gives both names as examples
_LIST_TAIL = re.compile(r"(?:\s*(?:[、,，/]|和|与|及)\s*[A-Za-z0-9][\w.@+\-]*(?:\s[A-Z0-9][\w.@+\-]*)*)*")
_PLACE = re.compile(r"在\s*$")  # "在 Dify 上" is a place; "在 LoRA 里" is not
# "RAG 里文档切块设多大", "MoE 混合专家模型里，路由器怎么分配专家": the question asks about the inside of a technique
# the corpus never names, even from a scene-setting clause. Only for acronyms (two capitals or more): "塞进
# Raspberry Pi 里" or "Slack 里的聊天记录" are places, and "在 X 里" / "从 X 里" were ruled incidental before this.
_INSIDE = re.compile(r"\s*[\u4e00-\u9fff]{0,6}?(?:里|裡|中)")
_ACRONYM = re.compile(r"(?=(?:[^A-Z]*[A-Z]){2})[A-Za-z]{2,6}")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_CLAUSE_BREAK = re.compile(r"[。！!，,；;：:]|\.(?=\s)")
_SENTENCE_BREAK = re.compile(r"[。！!：:]|\.(?=\s)")
_PAIRED = re.compile(r"\s*(?:和|与|跟|同|vs\.?\s|versus\s|and\s|or\s)", re.I)


def _is_name(word: str, english: bool) -> bool:
    """Is this Latin word written as a name: LoRA, vLLM, GPTQ, NF4, Q4_K_M, llama.cpp, pass@k; in a Chinese
    question also a capitalised word (Kaggle, Sora). In an English question a capitalised word may just be an
    ordinary word (Chinese, Monday), so it is not taken as a name."""
    if word[0].isdigit():
        return False
    if any(ch.isdigit() or ch in "._@+" for ch in word):
        return True
    if any(any(ch.isupper() for ch in part[1:]) for part in word.split("-") if part):
        return len(word) >= 3  # not AI, HR, KV
    return (not english and word[0].isupper() and len(word) >= 3 and word.lower() not in _COMMON_WORDS)


def latin_names(question: str, english: bool) -> list[tuple[str, int, int]]:
    """(name, start, end) of the Latin-script names in the question, a name's following capitalised words and
    numbers joined to it: "Llama 3 70B", "Label Studio", "Claude 3 Opus"."""
    spans: list[list[int]] = []
    open_span = False
    for m in _LATIN.finditer(question):
        word = m.group(0)
        if open_span and question[spans[-1][1]:m.start()] in (" ", "-") and (word[0].isdigit() or word[0].isupper()) \
                and word.lower() not in _COMMON_WORDS:
            spans[-1][1] = m.end()
            continue
        open_span = _is_name(word, english)
        if open_span:
            spans.append([m.start(), m.end()])
    return [(question[s:e], s, e) for s, e in spans]


def _known(name: str, corpus_mentions: Callable[[str], bool]) -> bool:
    """The corpus mentions the name (or its singular), it is a general acronym (LLM, GPU), or it is a variant of a
    name the corpus mentions (ChatGPT, InstructGPT: GPT)."""
    singular = name[:-1] if re.fullmatch(r"[A-Z]{2,}s", name) else name  # LLMs, GPUs
    if singular in _GENERIC_ACRONYMS or corpus_mentions(name) or corpus_mentions(singular):
        return True
    if "-" in name and all((p.isalpha() and p.islower()) or _known(p, corpus_mentions) for p in name.split("-")):
        return True  # a compound of known names and plain words: AI-generated, LLM-based
    parts = [p for word in name.split() for p in _CAMEL_PART.findall(word)]
    return any(p.isupper() and len(p) >= 3 and p not in _GENERIC_ACRONYMS and corpus_mentions(p) for p in parts)


def _incidental(question: str, start: int, end: int) -> bool:
    """Is the name at question[start:end] an example, a tool, a place or a source rather than the subject?"""
    tail = _LIST_TAIL.match(question, end).end()
    after = fold(question[tail:tail + 6])
    if _INCIDENTAL_AFTER.search(after):
        return True
    starts = [start]
    if question[start - 1:start] in ("（", "(") and _CJK.match(question[start - 2:start - 1] or " "):
        # a gloss of the Chinese word before it ("用百川（Baichuan）模型"): the word's context counts
        j = start - 1
        while j > 0 and start - j <= 8 and _CJK.match(question[j - 1]):
            j -= 1
            starts.append(j)
    for s in starts:
        before = fold(question[max(0, s - 12):s])
        if _INCIDENTAL_BEFORE.search(before) or (_PLACE.search(before) and after.lstrip().startswith("上")):
            return True
    return False


def _asking_clause(question: str, english: bool) -> tuple[int, int]:
    """Span of the clause that asks: the last clause of the first sentence that ends in a question mark (of the
    whole text if none does). Earlier clauses set the scene ("LM Studio 在我笔记本上跑 7B 模型，……，为什么推理和训练
    对硬件的要求差这么多？"); a name there is context, not what is asked about. English commas join the parts of
    one question more often than they set a scene, so there the whole sentence counts."""
    mark = re.search(r"[？?]", question)
    end = mark.start() if mark else len(question.rstrip("。.!！ "))
    starts = [0] + [m.end() for m in (_SENTENCE_BREAK if english else _CLAUSE_BREAK).finditer(question, 0, end)]
    # "Kubernetes 的 Pod 一直 CrashLoopBackOff，怎么排查？": an asking clause with at most one word of its own asks
    # about the clause before it
    while len(starts) > 1 and len([t for t in tokenize(question[starts[-1]:end]) if not t.startswith("#")]) < 2:
        starts.pop()
    return starts[-1], end


def unknown_subject(question: str, corpus_mentions: Callable[[str], bool], english: bool = False) -> str | None:
    """The first name the question asks about that the corpus never mentions, or None. A name is asked about
    when it is in the asking clause and not given as an example, tool, place or source, or when it is paired
    with another thing ("Kimi 和豆包比，哪个……", "GPTQ 和 AWQ 这两种方案，哪个……")."""
    ask_start, ask_end = _asking_clause(question, english)
    for name, start, end in latin_names(question, english):
        if _known(name, corpus_mentions) or _incidental(question, start, end):
            continue
        if (ask_start <= start < ask_end) or _PAIRED.match(question, end) or _inside_technique(question, name, end):
            return name
    return None


# Two things in Chinese script compared ("文心一言和通义千问哪个中文能力更强"): the Latin-name rules above cannot see a
# Chinese name, but a comparison of two things the corpus never mentions, neither of them, asks what it cannot answer.
_CJK_PAIR = re.compile(r"^\s*([\u4e00-\u9fff]{2,8}?)\s*(?:和|与|跟|还是)\s*([\u4e00-\u9fff]{2,8}?)\s*"
                       r"(?:相比|比较|比起来|比)?\s*[，,]?\s*(?:哪个|哪一个|谁|哪家)")


def unknown_pair(question: str, corpus_mentions: Callable[[str], bool]) -> str | None:
    """The first of two compared Chinese-script things when the corpus mentions neither, else None."""
    folded = fold(question)
    m = _CJK_PAIR.match(folded)
    if m and not corpus_mentions(m.group(1)) and not corpus_mentions(m.group(2)):
        return question[m.start(1):m.end(1)] if len(folded) == len(question) else m.group(1)  # as the user wrote it
    return None


def _inside_technique(question: str, name: str, end: int) -> bool:
    """An acronym followed by 里/中 (after a short gloss): the question asks about the inside of that technique."""
    return bool(_ACRONYM.fullmatch(name)) and bool(_INSIDE.match(question, end))


def compact(text: str) -> str:
    """Folded text without spaces, hyphens and underscores, for comparing names (GPT-4 = gpt 4)."""
    return re.sub(r"[\s\-_]+", "", fold(text))


def unanswerable_lookup(question: str, top_texts: Sequence[str], corpus_mentions: Callable[[str], bool],
                        english: bool = False) -> str | None:
    """Why the question asks for something the knowledge base cannot answer, or None: a price or date no
    passage states, an amount about a numbered product it never mentions, or a name it never mentions.

    top_texts: the best-matching passages; corpus_mentions(name): does any chunk mention this name;
    english: the question is mostly English (capitalised words are then not taken as names)."""
    q = fold(question)
    joined = "\n".join(top_texts)
    if _ASKS_PRICE.search(q) and not _STATES_MONEY.search(joined):
        return "price"
    if _ASKS_DATE.search(q) and not _STATES_DATE.search(joined):
        return "date"
    if _ASKS_AMOUNT.search(q):
        for m in _PRODUCT.finditer(question):
            name = m.group(0)
            if any(ch.isalpha() for ch in name) and not corpus_mentions(name):
                return f"unknown:{name.strip()}"
    subject = unknown_subject(question, corpus_mentions, english) or unknown_pair(question, corpus_mentions)
    return f"unknown:{subject}" if subject else None


class Scope:
    """The answer/abstain decision over one build: nothing similar, off-domain, or a look-up it cannot answer."""

    def __init__(self, chunks: Sequence, lexical, probe_vectors: np.ndarray, probe_texts: Sequence[str],
                 tuned: dict) -> None:
        self.chunks = chunks
        self.lexical = lexical
        self.tuned = tuned
        chinese = np.array([not mostly_english(t) for t in probe_texts], dtype=bool)
        self.probe_vectors = probe_vectors
        self.chinese_probe_vectors = probe_vectors[chinese] if len(probe_texts) else probe_vectors

    def decide(self, text: str, hits: list, dense_top: float, qvec: np.ndarray, english: bool,
               agree: bool = False) -> tuple[str, str] | None:
        """(abstain_reason, message) when the question should not be answered from these hits, else None.
        agree: dense and BM25 ranked the same chunk first, which lets a margin just under the threshold pass."""
        if not hits or dense_top < self.tuned["abstain_below"]:
            return "no_match", ABSTAIN_MESSAGES["no_match"]
        threshold = self.tuned["min_margin_english" if english else "min_margin"]
        if threshold is not None:  # a cosine-scale check: calibrated embedders only
            margin = scope_margin(dense_top, qvec, self.chinese_probe_vectors if english else self.probe_vectors)
            if margin < threshold and not (agree and margin >= threshold - self.tuned["agreement_slack"]):
                return "off_domain", ABSTAIN_MESSAGES["off_domain"]
            if (not english and margin < threshold + self.tuned["unfamiliar_band"]
                    and self.lexical.known_share(text) < self.tuned["min_known_share"]):
                return "off_domain", ABSTAIN_MESSAGES["off_domain"]
        lookup = unanswerable_lookup(text, [h.chunk.text for h in hits[:LOOKUP_PASSAGES]], self.mentions, english)
        if lookup in ("price", "date"):
            return f"no_{lookup}", ABSTAIN_MESSAGES[f"no_{lookup}"]
        if lookup:
            return "unknown_name", ABSTAIN_MESSAGES["unknown_name"].format(name=lookup.split(":", 1)[1])
        return None

    def mentions(self, name: str) -> bool:
        """Does any chunk mention this name (case, spaces and hyphens ignored)?"""
        words = [t for t in tokenize(name) if not t.startswith("#")]
        target = compact(name)
        return any(target in compact(self.chunks[p].text + " " + self.chunks[p].title)
                   for p in self.lexical.chunks_with_all(words)[:200])
