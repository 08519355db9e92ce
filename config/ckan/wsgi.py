"""WSGI entry point of the portal for gunicorn: `gunicorn wsgi:application` with CKAN_INI set."""
import os
from logging.config import fileConfig

from ckan.cli import load_config
from ckan.config.middleware import make_app

ini = os.environ["CKAN_INI"]
# Keep loggers configured before this point (gunicorn's access and error logs) alive.
fileConfig(ini, defaults={"here": os.path.dirname(os.path.abspath(ini))},
           disable_existing_loggers=False)
application = make_app(load_config(ini))
