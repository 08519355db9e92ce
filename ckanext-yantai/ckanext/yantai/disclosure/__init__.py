"""双公示 (administrative licensing and penalty disclosure): a one-way pipeline.

Each stage is a module; a later stage may import an earlier one, never the reverse
(tests/yantai/test_architecture.py holds the order):

- ``standard``: the record types and the fields of the national data standard (pure);
- ``privacy``: personal data masked, the public form of a record (pure);
- ``intake``: a record parsed and checked against the rules (pure);
- ``store``: the records kept, with what the rules say about them;
- ``publish``: the public records in their resource's DataStore table, masked;
- ``tables``: no write reaches those tables but the sync's (a chained DataStore action);
- ``credit``, ``push``: the records pushed to 信用烟台 (the protocol; what is due, and sending it);
- ``submission``: a department's records through all of them;
- ``files``: records uploaded as a file (CSV, XLSX), submitted once their resource is saved;
- ``recheck``: every stored record checked again, daily; ``report``: the compliance figures;
- ``views``: the compliance pages.

This module imports nothing, so that importing one stage loads only the stages before it.
"""
