"""Adapters: one module or package per outside system, implementing the domain ports."""
