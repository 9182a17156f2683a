"""Answers written by a language model from the retrieved passages, through any OpenAI-compatible endpoint."""
from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import BaseMessage

from kb.answering.prompts import CONDENSE_PROMPT, GROUNDED_PROMPT, format_history, grounded_inputs
from kb.answering.result import Generated, Source
from kb.core.config import Settings
from kb.core.errors import LLMUnavailable

log = logging.getLogger(__name__)

API_KEY_ENV = "KB_LLM_API_KEY"
DEFAULT_MODEL = "default"  # llama.cpp and vLLM with one model answer to any name
BACKOFF_S = (0.5, 1.0, 2.0, 4.0)  # waits between attempts; the last repeats
CONDENSE_MAX_TOKENS = 96
_CITATION = re.compile(r"[\[【]\s*(\d+(?:\s*[,，、]\s*\d+)*)\s*[\]】]")
_NUMBER = re.compile(r"\d+")


def llm_configured(settings: Settings) -> bool:
    """Whether an endpoint is set, i.e. the generative mode is available."""
    return bool(settings.llm_base_url.strip())


def check_citations(text: str, n_sources: int) -> tuple[str, list[int], list[int]]:
    """The text with citations to missing passages removed, the valid cited indices, and the dropped ones."""
    valid: list[int] = []
    dropped: list[int] = []

    def keep_existing(match: re.Match) -> str:
        numbers = [int(n) for n in _NUMBER.findall(match.group(1))]
        kept = [n for n in numbers if 1 <= n <= n_sources]
        dropped.extend(n for n in numbers if n not in kept)
        valid.extend(n for n in kept if n not in valid)
        return f"[{', '.join(map(str, kept))}]" if kept else ""

    cleaned = _CITATION.sub(keep_existing, text)
    return cleaned, sorted(valid), sorted(set(dropped))


def describe_failure(exc: Exception, base_url: str, timeout: float) -> str:
    """One line that says why the endpoint gave no answer."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return f"the language model at {base_url} did not answer within {timeout:g} s"
    if isinstance(exc, openai.APIConnectionError):
        return f"the language model at {base_url} is unreachable"
    if isinstance(exc, openai.APIStatusError):
        return f"the language model at {base_url} returned HTTP {exc.status_code}"
    return f"the language model at {base_url} returned something that is not a chat answer ({type(exc).__name__})"


def _retryable(exc: Exception) -> bool:
    import openai

    if isinstance(exc, openai.APIStatusError):
        return exc.status_code == 429 or exc.status_code >= 500
    return isinstance(exc, openai.APIConnectionError)


class Generator:
    """Writes grounded answers and standalone follow-up questions with the configured endpoint."""

    def __init__(self, settings: Settings, callbacks: Sequence[BaseCallbackHandler] = ()) -> None:
        if not llm_configured(settings):
            raise LLMUnavailable("no language model configured: set KB_LLM_BASE_URL to an OpenAI-compatible endpoint")
        self.base_url = settings.llm_base_url.strip()
        self.model = settings.llm_model.strip() or DEFAULT_MODEL
        self.timeout = settings.llm_timeout
        self.max_tokens = settings.llm_max_tokens
        self.retries = settings.llm_retries
        self.callbacks = list(callbacks)  # e.g. a handler that records the messages sent
        # why the endpoint failed; a generator that failed once is not asked again (make one per question)
        self.failure: str | None = None

    def chat_model(self, max_tokens: int) -> Any:
        """A langchain ChatOpenAI for the endpoint; the key is read from the environment now, never stored."""
        from langchain_openai import ChatOpenAI  # imported on use: the extractive mode never loads it

        # max_tokens goes in the body as is: ChatOpenAI renames its own to max_completion_tokens,
        # which llama.cpp and several hosted endpoints ignore
        return ChatOpenAI(base_url=self.base_url, model=self.model, api_key=os.environ.get(API_KEY_ENV) or "none",
                          timeout=self.timeout, max_retries=0, temperature=0.2, streaming=True,
                          extra_body={"max_tokens": max_tokens})

    def stream(self, question: str, sources: Sequence[Source]) -> "AnswerStream":
        """The grounded answer as a stream of tokens; its `result` is checked once the stream ends."""
        if self.failure:
            raise LLMUnavailable(self.failure)
        messages = GROUNDED_PROMPT.format_messages(**grounded_inputs(question, sources))
        return AnswerStream(self, messages, len(sources))

    def generate(self, question: str, sources: Sequence[Source]) -> Generated:
        """The grounded answer in one call; raises LLMUnavailable."""
        stream = self.stream(question, sources)
        for _ in stream:
            pass
        return stream.result

    def condense(self, question: str, history: Sequence[tuple[str, str]]) -> str:
        """The follow-up rewritten as a question that stands on its own; raises LLMUnavailable."""
        messages = CONDENSE_PROMPT.format_messages(question=question, history=format_history(history))
        stream = AnswerStream(self, messages, 0, max_tokens=CONDENSE_MAX_TOKENS)
        return "".join(stream).strip()


class AnswerStream:
    """Iterate for the tokens as they arrive; afterwards `result` holds the checked answer. Raises LLMUnavailable."""

    def __init__(self, generator: Generator, messages: list[BaseMessage], n_sources: int,
                 max_tokens: int | None = None) -> None:
        self.generator = generator
        self.messages = messages
        self.n_sources = n_sources
        self.max_tokens = max_tokens or generator.max_tokens
        self.text = ""  # what has arrived so far
        self.dropped: list[int] = []  # citations to passages that do not exist
        self.result: Generated | None = None
        self._ttft_ms = 0.0
        self._started = time.perf_counter()

    def __iter__(self) -> Iterator[str]:
        try:
            yield from self._run()
        except LLMUnavailable as exc:
            self.generator.failure = str(exc)
            raise

    def _run(self) -> Iterator[str]:
        self._started = started = time.perf_counter()
        tokens = self._open(started)
        try:
            for token in tokens:
                if time.perf_counter() - started > self.generator.timeout:
                    raise LLMUnavailable(f"the language model at {self.generator.base_url} did not finish within "
                                         f"{self.generator.timeout:g} s")
                self.text += token
                yield token
        finally:
            tokens.close()
        self.result = self.finish()

    def _open(self, started: float) -> Iterator[str]:
        """The token iterator once the first token is in hand; failures before it are retried with backoff."""
        g = self.generator
        for attempt in range(g.retries + 1):
            tokens = self._tokens()
            try:
                first = next(tokens)
            except StopIteration:
                raise LLMUnavailable(f"the language model at {g.base_url} returned an empty answer") from None
            except Exception as exc:  # the endpoint's failures reach us as many types; each becomes one line
                tokens.close()
                if attempt < g.retries and _retryable(exc) and time.perf_counter() - started < g.timeout:
                    log.info("LLM attempt %d failed (%s); retrying", attempt + 1, type(exc).__name__)
                    time.sleep(BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)])
                    continue
                raise LLMUnavailable(describe_failure(exc, g.base_url, g.timeout)) from exc
            self._ttft_ms = (time.perf_counter() - started) * 1000
            return self._chain(first, tokens)
        raise AssertionError("unreachable")

    def _tokens(self) -> Iterator[str]:
        """Non-empty text pieces of the model's reply."""
        chat = self.generator.chat_model(self.max_tokens)
        for chunk in chat.stream(self.messages, config={"callbacks": self.generator.callbacks}):
            if isinstance(chunk.content, str) and chunk.content:
                yield chunk.content

    def _chain(self, first: str, rest: Iterator[str]) -> Iterator[str]:
        yield first
        try:
            yield from rest
        except Exception as exc:  # a stream that breaks off or turns to garbage after the first token
            raise LLMUnavailable(describe_failure(exc, self.generator.base_url, self.generator.timeout)) from exc
        finally:
            rest.close()

    def finish(self) -> Generated:
        """The answer so far with its citations checked (also for a stream the user stopped)."""
        text, citations, self.dropped = check_citations(self.text, self.n_sources)
        return Generated(text=text.strip(), citations=citations, grounded=bool(citations), model=self.generator.model,
                         ttft_ms=round(self._ttft_ms, 1), total_ms=round((time.perf_counter() - self._started) * 1000, 1))
