"""Auth functions of the portal's actions."""
from __future__ import annotations

import ckan.plugins.toolkit as tk
from ckan.types import AuthResult, Context, DataDict


@tk.auth_allow_anonymous_access
def yantai_quality_summary(context: Context, data_dict: DataDict) -> AuthResult:
    # Anyone: the summary counts only the datasets the caller can already find.
    return {"success": True}


__all__ = ["yantai_quality_summary"]
