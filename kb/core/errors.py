"""Domain exceptions. Library code raises these; only the CLI and the app turn them into messages."""


class KBError(Exception):
    """Base class: its message is one line a user can act on."""


class IndexNotFound(KBError):
    """No built index at the given location."""


class IndexMismatch(KBError):
    """The index was built differently from what is asked (embedder, schema) or its files disagree."""


class IndexCorrupt(KBError):
    """An index file is unreadable, truncated or fails its checksum."""


class BadInput(KBError):
    """A question or argument that cannot be used (empty, wrong type, unknown option)."""


class UnknownBackend(KBError):
    """A backend name that no registry knows."""


class BuildFailed(KBError):
    """An ingest run could not finish; the previous index is left in place."""


class LLMUnavailable(KBError):
    """The language model endpoint could not produce an answer (unreachable, timed out, refused or garbled)."""
