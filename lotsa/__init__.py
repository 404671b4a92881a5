"""Lotsa: an anonymous chat and phone hotline with triage."""

__version__ = "0.1.0"
