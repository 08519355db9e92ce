"""The `yantai` CKAN plugin: registers the extension's parts; the logic lives in named modules."""
from __future__ import annotations

import os
from collections import OrderedDict
from typing import Any

import ckan.model as model
import ckan.plugins as p
import ckan.plugins.toolkit as tk
from werkzeug.middleware.proxy_fix import ProxyFix

from ckanext.yantai import (
    access,
    domains,
    federation,
    jobs,
    log_privacy,
    quality_index,
    quotas,
    search,
)
from ckanext.yantai import config as yantai_config
from ckanext.yantai.datastore import loader as datastore_loader
from ckanext.yantai.dcat import views as dcat_views
from ckanext.yantai.disclosure import files as disclosure_files
from ckanext.yantai.disclosure import views as disclosure_views
from ckanext.yantai.guards import firewall, pages, parameters, registry
from ckanext.yantai.guards.absence import joined
from ckanext.yantai.harvest import views as harvest_views
from ckanext.yantai.logic import action, auth, validators
from ckanext.yantai.views import access as access_views
from ckanext.yantai.views import api, conventions, credit, dataset_form, developer
from ckanext.yantai.views import applications as application_views
from ckanext.yantai.views import data_requests as data_request_views
from ckanext.yantai.views import datastore as datastore_views


def _public(module: Any) -> dict[str, Any]:
    return {name: getattr(module, name) for name in module.__all__}


# Outermost the types of CKAN's parameters, then the default-schema form (federation) around the
# guards: made from what the guards let through.
@tk.blanket.actions(lambda: {**_public(action),
                             **joined(parameters.chained_actions(), federation.chained_actions(),
                                      registry.chained_actions(), search.chained_actions(),
                                      disclosure_files.chained_actions())})
@tk.blanket.auth_functions(lambda: {**_public(auth), **registry.chained_auth_functions()})
@tk.blanket.blueprints(lambda: [*access_views.blueprints(), *datastore_views.blueprints(),
                                *dcat_views.blueprints(), *developer.blueprints(),
                                *credit.blueprints(), *data_request_views.blueprints(),
                                *application_views.blueprints(),
                                *federation.blueprints(),
                                disclosure_views.compliance])
@tk.blanket.cli
@tk.blanket.config_declarations
@tk.blanket.helpers
@tk.blanket.validators(validators)
class YantaiPlugin(p.SingletonPlugin):
    p.implements(p.IConfigurer)
    p.implements(p.IConfigurable)
    p.implements(p.ITranslation)
    p.implements(p.IFacets, inherit=True)
    p.implements(p.IPackageController, inherit=True)
    p.implements(p.IMiddleware, inherit=True)
    p.implements(p.IPermissionLabels)
    p.implements(p.IResourceController, inherit=True)

    # IConfigurer

    def update_config(self, config: tk.CKANConfig) -> None:
        log_privacy.install()
        # The portal's licence register (config/licences/), unless the site names another.
        if not config.get("licenses_group_url"):
            config["licenses_group_url"] = "file://" + os.path.join(
                os.path.dirname(__file__), "licences", "licences.json")
        tk.add_template_directory(config, "templates")
        tk.add_public_directory(config, "public")
        tk.add_resource("assets", "yantai")

    # IConfigurable

    def configure(self, config: tk.CKANConfig) -> None:
        yantai_config.check_endpoint_lists()  # a bare host in an allow-list stops the start

    # ITranslation

    def i18n_directory(self) -> str:
        return os.path.join(os.path.dirname(__file__), "i18n")

    def i18n_locales(self) -> list[str]:
        return ["zh_Hans_CN"]

    def i18n_domain(self) -> str:
        return "ckanext-yantai"

    # IMiddleware

    def make_middleware(self, app: Any, config: Any) -> Any:
        # the visitor's address and scheme as the trusted reverse proxies saw them
        proxies = yantai_config.trusted_proxies()
        if proxies:
            app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
        # once CKAN's and the other plugins' blueprints are registered
        search.install(app)
        api.install(app)
        dataset_form.install(app)
        pages.install(app)
        harvest_views.install(app)
        dcat_views.install(app)
        conventions.install(app)  # after the views it wraps are in place
        quotas.install(app)
        return app

    # IFacets

    def dataset_facets(self, facets_dict: OrderedDict[str, Any],
                       package_type: str) -> OrderedDict[str, Any]:
        # Other types (harvest sources) keep their own facets.
        return search.facet_titles() if package_type == "dataset" else facets_dict

    def organization_facets(self, facets_dict: OrderedDict[str, Any], organization_type: str,
                            package_type: str | None) -> OrderedDict[str, Any]:
        facets = search.facet_titles()
        facets.pop("organization")
        return facets

    def group_facets(self, facets_dict: OrderedDict[str, Any], group_type: str,
                     package_type: str | None) -> OrderedDict[str, Any]:
        return search.facet_titles()

    # IPackageController

    def create(self, entity: model.Package) -> None:
        domains.sync_groups(entity)

    def edit(self, entity: model.Package) -> None:
        domains.sync_groups(entity)

    def after_dataset_create(self, context: Any, pkg_dict: dict[str, Any]) -> None:
        jobs.enqueue_resource_check(pkg_dict)
        datastore_loader.enqueue_package(pkg_dict)

    def after_dataset_update(self, context: Any, pkg_dict: dict[str, Any]) -> None:
        jobs.enqueue_resource_check(pkg_dict)
        datastore_loader.enqueue_package(pkg_dict)

    def after_dataset_show(self, context: Any, pkg_dict: dict[str, Any]) -> None:
        access.guard_package(context, pkg_dict)

    def before_dataset_index(self, pkg_dict: dict[str, Any]) -> dict[str, Any]:
        return access.index_fields(quality_index.index_fields(search.index_fields(pkg_dict)))

    def before_dataset_search(self, search_params: dict[str, Any]) -> dict[str, Any]:
        return search.bound_search(search_params)

    def after_dataset_search(self, search_results: dict[str, Any],
                             search_params: dict[str, Any]) -> dict[str, Any]:
        # Every package_search, the Action API's and CKAN's internal ones (feeds, DCAT, group
        # pages, current_package_list_with_resources) alike: no resource URLs of data the
        # requesting user may not have, whatever the fields asked for.
        viewer = access.request_viewer()
        search_results["results"] = [access.guard_search_result(viewer, r)
                                     for r in search_results["results"]]
        return search.label_facets(search_results)

    # IPermissionLabels: the tiers in search, counts, facets and activity streams

    def get_dataset_labels(self, dataset_obj: model.Package) -> list[str]:
        return access.PermissionLabels().get_dataset_labels(dataset_obj)

    def get_user_dataset_labels(self, user_obj: model.User) -> list[str]:
        return access.PermissionLabels().get_user_dataset_labels(user_obj)

    # IResourceController: the classified firewall on uploads, and the files of 双公示 records
    # refused when bad and never stored (their records are submitted by the chained
    # resource_create and resource_update of disclosure.files)

    def before_resource_create(self, context: Any, resource: dict[str, Any]) -> None:
        pkg = model.Package.get(resource.get("package_id") or "")
        firewall.refuse_classified_upload(context, resource, pkg)
        disclosure_files.take_upload(resource)

    def before_resource_update(self, context: Any, current: dict[str, Any],
                               resource: dict[str, Any]) -> None:
        pkg = model.Package.get(current.get("package_id") or "")
        firewall.refuse_classified_upload(context, resource, pkg)
        disclosure_files.take_upload(resource)
