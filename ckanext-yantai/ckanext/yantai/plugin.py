"""The `yantai` CKAN plugin: registers the extension's parts; the logic lives in named modules."""
from __future__ import annotations

from collections import OrderedDict
from typing import Any

import ckan.model as model
import ckan.plugins as p
import ckan.plugins.toolkit as tk

from ckanext.yantai import actions, auth, domains, jobs, quality_index, search, validators


@tk.blanket.actions(actions)
@tk.blanket.auth_functions(auth)
@tk.blanket.cli
@tk.blanket.config_declarations
@tk.blanket.helpers
@tk.blanket.validators(validators)
class YantaiPlugin(p.SingletonPlugin):
    p.implements(p.IConfigurer)
    p.implements(p.ITranslation)
    p.implements(p.IFacets, inherit=True)
    p.implements(p.IPackageController, inherit=True)
    p.implements(p.IMiddleware, inherit=True)

    # IConfigurer

    def update_config(self, config: "tk.CKANConfig") -> None:
        tk.add_template_directory(config, "templates")
        tk.add_public_directory(config, "public")

    # ITranslation

    def i18n_directory(self) -> str:
        import os

        return os.path.join(os.path.dirname(__file__), "i18n")

    def i18n_locales(self) -> list[str]:
        return ["zh_Hans_CN"]

    def i18n_domain(self) -> str:
        return "ckanext-yantai"

    # IMiddleware

    def make_middleware(self, app: Any, config: Any) -> Any:
        from ckanext.yantai import views

        return views.install(app)

    # IFacets

    def dataset_facets(self, facets_dict: "OrderedDict[str, Any]",
                       package_type: str) -> "OrderedDict[str, Any]":
        # Other types (harvest sources) keep their own facets.
        return search.facet_titles() if package_type == "dataset" else facets_dict

    def organization_facets(self, facets_dict: "OrderedDict[str, Any]", organization_type: str,
                            package_type: str | None) -> "OrderedDict[str, Any]":
        facets = search.facet_titles()
        facets.pop("organization")
        return facets

    def group_facets(self, facets_dict: "OrderedDict[str, Any]", group_type: str,
                     package_type: str | None) -> "OrderedDict[str, Any]":
        return search.facet_titles()

    # IPackageController

    def create(self, entity: model.Package) -> None:
        domains.sync_groups(entity)

    def edit(self, entity: model.Package) -> None:
        domains.sync_groups(entity)

    def after_dataset_create(self, context: Any, pkg_dict: dict[str, Any]) -> None:
        jobs.enqueue_resource_check(pkg_dict)

    def after_dataset_update(self, context: Any, pkg_dict: dict[str, Any]) -> None:
        jobs.enqueue_resource_check(pkg_dict)

    def before_dataset_index(self, pkg_dict: dict[str, Any]) -> dict[str, Any]:
        return quality_index.index_fields(search.index_fields(pkg_dict))

    def after_dataset_search(self, search_results: dict[str, Any],
                             search_params: dict[str, Any]) -> dict[str, Any]:
        return search.label_facets(search_results)
