"""The portal's DataStore: every table searchable in Chinese (``search``), and the
``yantai_datastore`` plugin that wires it into CKAN's DataStore (``plugin``)."""
