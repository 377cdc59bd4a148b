"""Evaluation adapters: the columnar fact store and engine, and the report writers."""
