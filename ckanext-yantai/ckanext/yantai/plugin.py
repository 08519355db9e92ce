"""The `yantai` CKAN plugin: registers the extension's parts; the logic lives in named modules."""
from __future__ import annotations

import ckan.plugins as p
import ckan.plugins.toolkit as tk


@tk.blanket.cli
class YantaiPlugin(p.SingletonPlugin):
    p.implements(p.IConfigurer)

    # IConfigurer

    def update_config(self, config: "tk.CKANConfig") -> None:
        tk.add_template_directory(config, "templates")
