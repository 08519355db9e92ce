"""双公示 (administrative licensing and penalty disclosure): a one-way pipeline.

Each stage is a module; a later stage may import an earlier one, never the reverse
(tests/yantai/test_architecture.py holds the order):

- ``standard``: the record types and the fields of the national data standard (pure);
- ``privacy``: personal data masked, the public form of a record (pure);
- ``intake``: a record parsed and checked against the rules (pure).

This module imports nothing, so that importing one stage loads only the stages before it.
"""
