"""The guards of every channel, put together for the plugin. Where two channels guard the same
action, the order below is the order they run in: the harvest source checks, then absence
(so that a hidden object is answered as missing before anything else is said of it), then the
classified firewall (before anything is stored), then the tiers."""
from __future__ import annotations

from ckan.types import ChainedAction, ChainedAuthFunction

from ckanext.yantai.guards import activity, datasets, datastore, dcat, firewall, lists
from ckanext.yantai.guards.absence import distinct, joined
from ckanext.yantai.harvest import guards as harvest


def chained_actions() -> dict[str, ChainedAction]:
    return joined(harvest.chained_actions(), datasets.absent_actions(),
                  firewall.chained_actions(), datasets.chained_actions(),
                  activity.chained_actions(), lists.chained_actions(),
                  datastore.chained_actions(), dcat.chained_actions())


def chained_auth_functions() -> dict[str, ChainedAuthFunction]:
    return distinct(datasets.auth_functions(), datastore.auth_functions(),
                    harvest.auth_functions())
