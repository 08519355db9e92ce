"""The portal's pages, by feature: ``access`` (applying for conditional data, the review queues,
the audit log export), ``dataset_form`` (the multi-page dataset form), ``previews`` (tables,
images and PDFs of uploads), ``api`` (the Action API's and CKAN's JS plumbing). The 双公示 pages
are in ``compliance_views``, the harvest pages in ``harvest/views.py``; pages that hand out data
are guarded in ``guards/pages.py``."""
