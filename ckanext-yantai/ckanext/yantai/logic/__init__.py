"""CKAN's logic layer of the portal, as CKAN's own extensions lay it out: the ``yantai_*`` API
actions (``action``), their auth functions (``auth``), the schemas their parameters are checked
with (``schema``) and the validators of those schemas and of the catalogue's scheming schemas
(``validators``)."""
