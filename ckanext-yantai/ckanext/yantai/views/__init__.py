"""The portal's pages, by feature: ``access`` (applying for conditional data, the review queues,
the audit log export), ``dataset_form`` (the multi-page dataset form), ``previews`` (tables,
images and PDFs of uploads), ``api`` (the Action API's and CKAN's JS plumbing). The 双公示 pages
are in ``compliance_views``, the harvest pages in ``harvest/views.py``; pages that hand out data
are guarded in ``guards/pages.py``."""
from __future__ import annotations

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import Context


def user_context() -> Context:
    """The context of an action called for the page's visitor (logged in or not)."""
    user = tk.current_user
    return {"user": user.name if user.is_authenticated else "",
            "auth_user_obj": user if user.is_authenticated else None}


def errors_text(error: tk.ValidationError) -> str:
    """A refused action's messages as one line of the page (they are Chinese already)."""
    return "；".join(str(m) for messages in error.error_dict.values()
                    for m in (messages if isinstance(messages, list) else [messages]))


def departments() -> list[dict[str, str]]:
    """The active departments by title, for a page's department choice."""
    orgs = model.Session.query(model.Group).filter(
        model.Group.is_organization.is_(True), model.Group.state == "active").order_by(
        model.Group.title).all()
    return [{"name": org.name, "title": org.title or org.name} for org in orgs]
