"""Custom integrations.

A package, so that the tests import this project's copy: the test harness puts its own ``custom_components``
folder first on ``sys.path``, and a bare ``import custom_components`` would otherwise find that one.
"""
