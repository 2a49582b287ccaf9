"""Recommenders (popularity baseline, implicit ALS/BPR, item-based, content-based, hybrids): the next issue's work."""
