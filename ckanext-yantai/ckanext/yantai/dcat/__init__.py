"""DCAT: the ``yantai`` RDF profile (``profile.py``), the concept schemes of the catalogue's code
lists published at stable URIs (``terms.py``, served by ``views.py``)."""
