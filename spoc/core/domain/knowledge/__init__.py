"""Saved replies and the knowledge base written in the console."""
