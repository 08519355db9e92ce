"""Background jobs of the portal, run by `ckan jobs worker`."""
from __future__ import annotations

import datetime as dt

import ckan.plugins.toolkit as tk
from ckan.lib.redis import connect_to_redis

HEARTBEAT_TTL = 3600


def heartbeat_key(token: str) -> str:
    return f"{tk.config['ckan.site_id']}:yantai:worker-heartbeat:{token}"


def yantai_heartbeat(token: str) -> str:
    """Record that a worker picked up and ran a job; `ckan yantai check-worker` waits for it."""
    now = dt.datetime.now(dt.timezone.utc).isoformat()
    connect_to_redis().set(heartbeat_key(token), now, ex=HEARTBEAT_TTL)
    return now
