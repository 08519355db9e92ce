"""The DataStore table of a resource, on its page: a reload, asked for by its editors."""
from __future__ import annotations

from typing import Any, cast

import ckan.plugins.toolkit as tk
from ckan.types import Context
from flask import Blueprint

datastore = Blueprint("yantai_datastore", __name__)


@datastore.route("/dataset/<id>/resource/<resource_id>/datastore/reload", methods=["POST"])
def reload(id: str, resource_id: str) -> Any:
    context = cast(Context, {"user": tk.current_user.name if tk.current_user else ""})
    try:
        tk.get_action("yantai_datastore_submit")(context, {"resource_id": resource_id})
    except tk.NotAuthorized:
        return tk.abort(403, tk._("Not authorized to load this resource"))
    except tk.ObjectNotFound:
        return tk.abort(404, tk._("Resource not found"))
    except tk.ValidationError as error:
        tk.h.flash_error(" ".join(str(m) for msgs in error.error_dict.values()
                                  for m in (msgs if isinstance(msgs, list) else [msgs])))
    else:
        tk.h.flash_success(tk._("The table will be loaded again in a moment."))
    return tk.redirect_to("resource.read", id=id, resource_id=resource_id)


def blueprints() -> list[Blueprint]:
    return [datastore]
