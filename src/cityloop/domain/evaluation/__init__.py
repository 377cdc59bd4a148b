"""Comprehensive evaluation (综合评价): periods, subjects, facts, indicators, schemes, scores.

Reference: standards.md §7 (indicators, rates, composites, step tables, grades) and §6.2
(on-time definitions). Pure rules: the columnar engine that counts millions of facts lives in
``adapters/evaluation`` and is tested against :func:`rules.evaluate`.
"""
