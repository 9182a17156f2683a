"""Factual look-ups the corpus cannot answer (prices, dates, unknown numbered products)."""
import pytest

from kb.answering.answerability import compact, unanswerable_lookup, unknown_pair
from kb.core.textnorm import mostly_english

NOWHERE = lambda name: False  # noqa: E731 - a corpus that mentions nothing
EVERYWHERE = lambda name: True  # noqa: E731


@pytest.mark.parametrize("question, passages, expected", [
    ("RTX 4090 显卡现在多少钱一张？", ["显卡的显存越大越好。"], "price"),
    ("RTX 4090 显卡现在多少钱一张？", ["目前售价约 12999 元。"], None),
    ("How much does it cost to fine-tune a model?", ["Fine-tuning adapts a model."], "price"),
    ("GPT-5 是哪天正式发布的？", ["GPT 系列模型基于 Transformer。"], "date"),
    ("Transformer 是哪一年提出的？", ["它最初在 Vaswani 等人的 2017 年论文中提出。"], None),
    ("梯度爆炸有什么办法限制住？", ["梯度裁剪。"], None),
    ("训练大模型需要多少显存？", ["显存需求取决于参数量。"], None),  # an amount, but no product name
])
def test_price_and_date_questions_need_a_passage_that_states_one(question, passages, expected):
    assert unanswerable_lookup(question, passages, EVERYWHERE) == expected


@pytest.mark.parametrize("question, name", [
    ("H100 显卡的 TDP 功耗是多少瓦", "H100"),
    ("Llama 3 70B 的 context window 有多长？", "Llama 3 70B"),
    ("Qwen2-72B 支持多长的上下文？", "Qwen2-72B"),
    ("文心一言 4.0 的参数量是多少？", "文心一言 4.0"),
])
def test_amount_questions_about_an_unknown_product(question, name):
    assert unanswerable_lookup(question, ["无关"], NOWHERE) == f"unknown:{name}"
    assert unanswerable_lookup(question, ["无关"], EVERYWHERE) is None


@pytest.mark.parametrize("question", [
    "What does 8-bit quantization do, and will it hurt accuracy?",  # "8-bit" is not a product name
    "多卡训练的时候 Trainer 里怎么打开 fp16？",  # no amount asked
])
def test_ordinary_questions_are_not_lookups(question):
    trainer_only = lambda name: name.lower() in {"trainer", "fp16"}  # noqa: E731
    assert unanswerable_lookup(question, ["无关"], trainer_only, mostly_english(question)) is None


def test_compact_ignores_case_spaces_and_hyphens():
    assert compact("GPT-4 o") == compact("gpt4o") and compact("Llama 3") == "llama3"


def test_kb_abstains_on_a_price_it_cannot_state_and_says_why(kb):
    ans = kb.ask("ChatGPT Plus 会员一个月多少钱？")
    assert ans.abstained and ans.abstain_reason == "no_price" and len(ans.sources) >= 5
    assert "价格" in ans.answer


def test_kb_answers_a_date_the_corpus_states(kb):
    ans = kb.ask("Transformer 是哪一年提出的？")
    assert not ans.abstained and ans.abstain_reason is None
    assert "2017" in ans.answer


def test_kb_names_the_unknown_product(kb):
    ans = kb.ask("Qwen2-72B 支持多长的上下文？")
    assert ans.abstained and ans.abstain_reason == "unknown_name" and "Qwen2-72B" in ans.answer


def test_mentions_uses_the_corpus(kb):
    assert kb.scope.mentions("GPT-2") and kb.scope.mentions("gpt 3") and not kb.scope.mentions("Qwen2-72B")


@pytest.mark.parametrize("question", [
    "大模型能用来预测股票价格吗？",  # price is the subject, not what is asked
    "大模型怎么预测股票价格？",
    "大模型哪天能取代程序员？",  # "someday", not a date of an event
    "什么时候该用 LoRA，什么时候该全量微调？",  # "when" of a choice, not of an event
    "训练大模型需要多少显存？",
])
def test_questions_about_prices_or_time_are_not_lookups(question):
    assert unanswerable_lookup(question, ["无关"], EVERYWHERE) is None


@pytest.mark.parametrize("question, kind", [
    ("AWS Bedrock 一个月订阅费大概多少钱？", "price"),
    ("在 AWS Bedrock 上调用 Claude 模型怎么收费？", "price"),
    ("輝達今天的股價是多少？", "price"),
    ("国内哪家大模型创业公司估值最高？最新一轮融资了多少？", "price"),
    ("What's the price of GPT-4 API access?", "price"),
    ("Claude 3 Opus 是什么时候发布的？", "date"),
    ("When was Llama 2 released?", "date"),
    ("Gemini 是哪一年幾月正式發表的？", "date"),  # words between the time asked and the event
    ("BERT 是什么时候由谷歌提出的？", "date"),
])
def test_lookups_are_recognised(question, kind):
    assert unanswerable_lookup(question, ["无关"], EVERYWHERE) == kind


@pytest.mark.parametrize("question, name", [
    ("LoRA 微调的时候秩 r 一般设成多少合适？", "LoRA"),
    ("FlashAttention 为什么能让注意力计算更快？", "FlashAttention"),
    ("Llama 3 和 Qwen2 相比，哪个的中文能力更强？", "Llama 3"),
    ("What does vLLM's PagedAttention do with the KV cache?", "vLLM"),
    ("DeepSpeed 的 ZeRO-3 配置里 offload_optimizer 怎么写？", "DeepSpeed"),
    ("llama.cpp 下载的模型，文件名里的 Q4_K_M 是什么意思？", "Q4_K_M"),
    ("Kimi 和豆包比，哪个读长文档更靠谱？", "Kimi"),  # paired with another thing
    ("What reward model was used to align Nemotron-4 340B, and is it public?", "Nemotron-4 340B"),
    ("Constitutional AI 這個方法裡的「憲法」包含哪些原則？", "Constitutional AI"),
    ("用 Opacus 做差分隱私訓練時，noise_multiplier 該怎麼設定？", "noise_multiplier"),  # a tool, then its setting
    ("RAG 里文档切块设多大比较合适，要不要重叠？", "RAG"),  # the inside of an acronym-named technique
    ("MoE 混合专家模型里，路由器是怎么分配专家的？", "MoE"),
    ("Grammarly 和 Jasper 哪个更好用？", "Grammarly"),  # a list that is compared, not given as examples
])
def test_a_question_about_a_name_the_corpus_never_mentions(question, name):
    english = mostly_english(question)
    assert unanswerable_lookup(question, ["无关"], NOWHERE, english) == f"unknown:{name}"
    assert unanswerable_lookup(question, ["无关"], EVERYWHERE, english) is None


@pytest.mark.parametrize("question", [
    "为什么像 Qwen 这样的大模型都建立在 Transformer 上？",  # an example
    "DeepSeek 这种模型的回答里为什么会有刻板印象？",
    "如果 HR 用 Gemini 来初筛简历，会不会不公平？",  # a tool
    "在 Dify 上搭的客服机器人被提示词注入了，怎么防？",  # a place
    "我從 Kaggle 下載的評論資料集正負樣本很不平衡，怎麼辦？",  # a source
    "用百川（Baichuan）模型自动生成新闻摘要，怎么判断好不好？",  # a gloss of the tool's Chinese name
    "Could a competitor clone a model like Claude through its API?",
    "Do LLMs understand Chinese idioms?",  # a capitalised English word is not a name
    "学习 App 导入大模型能帮学生做什么？",  # an ordinary word
    "ChatGPT 为什么会一本正经地胡说八道？",  # a variant of a name the corpus knows (GPT)
    "LLM 的 inference latency 太高怎么办？",  # English words, not names
    "LM Studio 在我笔记本上跑 7B 模型只占几个 G 显存，为什么训练要一堆卡？",  # sets the scene; not what is asked
    "We serve our model with TensorRT-LLM. What general techniques speed up inference?",
    "Grammarly、Jasper 这类写作工具是怎么用上大模型的？",  # a list of examples
    "How can AI-generated fake news be detected?",  # a compound of a known acronym and a plain word
    "How do LLM-based chatbots handle privacy?",
    "想把文本分类模型塞进 Raspberry Pi 里离线跑，怎么把模型变小？",  # a place, not an acronym
])
def test_a_name_given_as_an_example_tool_or_place_is_not_the_subject(question):
    known = lambda name: name.upper() in {"GPT", "LLM", "API"}  # noqa: E731 - a corpus that mentions these only
    assert unanswerable_lookup(question, ["无关"], known, mostly_english(question)) is None


def test_kb_abstains_on_a_question_about_an_unknown_technique(kb):
    ans = kb.ask("LoRA 微调的时候秩 r 一般设成多少合适？")
    assert ans.abstained and ans.abstain_reason == "unknown_name" and "LoRA" in ans.answer
    assert len(ans.sources) >= 5  # the nearest passages are still listed
    example = kb.ask("像 Qwen 这样的大模型为什么都用 Transformer？")
    assert not example.abstained and "Transformer" in example.answer


@pytest.mark.parametrize("question, expected", [
    ("文心一言和通义千问哪个中文能力更强？", "文心一言"),
    ("文心一言跟通義千問比，哪個好？", "文心一言"),  # Traditional script; the name as the user wrote it
    ("问一下天气怎么样", None),  # no comparison
])
def test_two_unknown_chinese_names_compared(question, expected):
    assert unknown_pair(question, NOWHERE) == expected


def test_a_comparison_with_a_known_side_is_answered():
    knows_pretraining = lambda name: name == "预训练"  # noqa: E731
    assert unknown_pair("预训练和微调哪个更重要？", knows_pretraining) is None
    assert unknown_pair("预训练和微调哪个更重要？", EVERYWHERE) is None
    assert unanswerable_lookup("文心一言和通义千问哪个中文能力更强？", ["无关"], NOWHERE) == "unknown:文心一言"


def test_a_contentless_asking_clause_asks_about_the_clause_before_it():
    q = "Kubernetes 的 Pod 一直 CrashLoopBackOff，怎么排查？"
    assert unanswerable_lookup(q, ["无关"], NOWHERE) == "unknown:Kubernetes"
    assert unanswerable_lookup(q, ["无关"], EVERYWHERE) is None


def test_a_billing_question_is_a_price_question():
    assert unanswerable_lookup("这个模型的 API 调用是怎么计费的？", ["按量付费。"], EVERYWHERE) == "price"
    assert unanswerable_lookup("这个模型的 API 调用是怎么计费的？", ["每千 token 0.02 元。"], EVERYWHERE) is None
