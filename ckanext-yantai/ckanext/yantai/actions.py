"""API actions of the portal (public contract; names start with yantai_)."""
from __future__ import annotations

import re
from typing import Any

import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict

from ckanext.yantai import quality_index

NAME = re.compile(r"^[a-z0-9_-]{2,100}$")  # CKAN's URL names


@tk.side_effect_free
def yantai_quality_summary(context: Context, data_dict: DataDict) -> list[dict[str, Any]]:
    """Metadata quality per department: datasets, average score (0-100) and issue counts.

    :param organization: a department's name to report on only it (optional)
    :returns: ``[{"organization", "datasets", "average_score", "issues": {code: count}}]``,
        counting only the datasets the caller may see.
    """
    tk.check_access("yantai_quality_summary", context, data_dict)
    organization = data_dict.get("organization")
    if organization is not None and not (isinstance(organization, str)
                                         and NAME.match(organization)):
        raise tk.ValidationError({"organization": [tk._("Must be a department name")]})
    return quality_index.department_summary(dict(context), organization)


__all__ = ["yantai_quality_summary"]
