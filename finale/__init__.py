"""Finale: the console that runs the live grand finale of an LLM fine-tuning competition."""

__version__ = "0.1.0"
