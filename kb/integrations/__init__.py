"""Adapters that let other frameworks use the knowledge base."""
