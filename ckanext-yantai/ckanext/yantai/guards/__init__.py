"""Chained actions and auth functions that hold the access tiers and the classified firewall on
every channel CKAN, its DataStore, activity, DCAT and harvest plugins offer, one module per
channel:

- ``datasets``: datasets, resources and resource views (reading; tiers kept on writing);
- ``search``: lists, tags, formats, counts and follows that CKAN answers without the labels;
- ``activity``: activity streams, snapshots and diffs;
- ``datastore``: the DataStore's reads, its SQL and its writes;
- ``dcat``: DCAT's own dataset endpoint;
- ``firewall``: classified markings refused on every write (datasets, uploads, departments,
  groups, views, users, relationships);
- ``absence``: how a refusal reads as absence (the building blocks the channels use);
- the harvest plugin's channels are guarded in ``ckanext.yantai.harvest.guards``.

``registry`` puts them together for the plugin. Who may see and do what is decided in ``tiers``
(through ``access``); these modules only apply it.

- Reading: what a caller may not see answers exactly as if it did not exist; data of a dataset the
  caller may not have (resource URLs, DataStore rows, snapshots in activities) is left out.
- Writing: classified markings are refused before anything is stored (only an audit entry is
  written), a change that makes a dataset more open waits for a second person, and one that
  makes it less open reaches the search index and every old activity at once.
"""
