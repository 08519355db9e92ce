"""Install the portal's CKAN extension, ckanext-yantai (package ckanext.yantai, plugin `yantai`)."""
from setuptools import find_namespace_packages, setup

setup(
    name="ckanext-yantai",
    version="0.1.0",
    description="烟台市公共数据开放网: CKAN extension of the Yantai open-data portal",
    python_requires=">=3.10",
    package_dir={"": "ckanext-yantai"},
    # calendars/ is data (the working-day table); its seed script is not part of the package.
    # assets/ is data too, and its node_modules/ must not be walked as namespace packages.
    packages=find_namespace_packages(where="ckanext-yantai",
                                     include=["ckanext.yantai", "ckanext.yantai.*"],
                                     exclude=["ckanext.yantai.calendars",
                                              "ckanext.yantai.assets*"]),
    include_package_data=True,
    package_data={"ckanext.yantai": ["schemas/*.yaml", "templates/**/*",
                                     "public/**/*",
                                     "calendars/*.yaml", "licences/*.json", "i18n/*/LC_MESSAGES/*",
                                     "datastore/*.sql", "datastore/*.txt",
                                     # Webassets; the Docker build puts ECharts there from
                                     # package-lock.json before building the wheel.
                                     "assets/webassets.yml", "assets/*.js",
                                     "assets/node_modules/echarts/dist/echarts.min.js",
                                     "assets/node_modules/echarts/LICENSE",
                                     "assets/node_modules/echarts/NOTICE",
                                     "migration/yantai/*.ini",
                                     "migration/yantai/*.mako", "migration/yantai/README"]},
    entry_points={
        "ckan.plugins": [
            "yantai = ckanext.yantai.plugin:YantaiPlugin",
            "yantai_table_view = ckanext.yantai.views.previews:TableView",
            "yantai_file_view = ckanext.yantai.views.previews:FileView",
            # CKAN's tracking (views, downloads), in place of tracking
            "yantai_tracking = ckanext.yantai.tracking:YantaiTrackingPlugin",
            # Chinese search over DataStore rows; listed after datastore
            "yantai_datastore = ckanext.yantai.datastore.plugin:YantaiDatastorePlugin",
            "yantai_release_harvester = ckanext.yantai.harvest.release:ReleaseHarvester",
            "yantai_disclosure_harvester = "
            "ckanext.yantai.harvest.disclosure_feed:DisclosureHarvester",
            "yantai_catalogue_harvester = ckanext.yantai.harvest.catalogue:CatalogueHarvester",
            # source types ckan and dcat_rdf, in place of ckan_harvester and dcat_rdf_harvester
            "yantai_ckan_harvester = ckanext.yantai.harvest.remote_ckan:CkanHarvester",
            "yantai_dcat_rdf_harvester = ckanext.yantai.harvest.remote_dcat:DcatRdfHarvester",
        ],
        # the catalogue metadata in DCAT-AP 3, after euro_dcat_ap_3 (ckanext.dcat.rdf.profiles)
        "ckan.rdf.profiles": ["yantai = ckanext.yantai.dcat.profile:YantaiDCATAPProfile"],
        "babel.extractors": ["ckan = ckan.lib.extract:extract_ckan"],
    },
)
