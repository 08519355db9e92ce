"""The portal's DataStore: every table file loaded as a typed table (``loader``, reading files
with ``tabular`` and typing columns with ``columns``), searchable in Chinese (``search``), and the
``yantai_datastore`` plugin that wires the search and the download links into CKAN's DataStore
(``plugin``)."""
