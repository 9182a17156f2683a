"""Ingest: load, clean and chunk documents, vote their topics, embed them and write the index."""
