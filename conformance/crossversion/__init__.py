"""Checkpoints written by one Lightning release and read by another.

``generate`` writes them (``python -m lightning_conformance.crossversion generate``); ``data/``
holds the shipped ones that the CKPT cross-version clauses load.
"""
