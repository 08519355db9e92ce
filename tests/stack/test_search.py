"""Chinese full-text search through CKAN's package_search against the real Solr core."""
from __future__ import annotations

import pytest
from ckan.tests.helpers import call_action

from tests import factories


def names(**params) -> set[str]:
    return {d["name"] for d in call_action("package_search", **params)["results"]}


@pytest.fixture
def datasets(clean_db, clean_index):
    org = factories.Organization()
    make = lambda name, title, notes="": factories.Dataset(  # noqa: E731
        name=name, title=title, notes=notes or title, owner_org=org["id"])
    make("yt-transit", "烟台市公交线路站点信息", "全市公交线路及站点的名称和位置。")
    make("yt-road", "烟台市公路养护里程统计")
    make("yt-gdp", "ＧＤＰ季度统计２０２４", "Quarterly GDP of Yantai")
    make("zhifu-stops", "Bus stops of Zhifu district")
    return org


@pytest.mark.usefixtures("datasets")
class TestChineseSearch:
    def test_two_character_word_finds_the_title(self):
        assert names(q="公交") == {"yt-transit"}

    def test_longer_phrase_finds_the_title(self):
        assert names(q="公交线路") == {"yt-transit"}

    def test_characters_that_are_not_adjacent_do_not_match(self):
        # 公 and 路 both occur in the bus title, but not as the word 公路.
        assert names(q="公路") == {"yt-road"}

    def test_single_character_query_matches(self):
        assert names(q="站") == {"yt-transit"}

    def test_words_from_the_description_match(self):
        assert names(q="站点的名称") == {"yt-transit"}

    def test_shared_city_name_matches_all_its_datasets(self):
        assert names(q="烟台市") == {"yt-transit", "yt-road"}

    def test_half_width_query_finds_full_width_text(self):
        assert names(q="gdp 2024") == {"yt-gdp"}

    def test_full_width_query_finds_half_width_text(self):
        assert names(q="ＧＤＰ") == {"yt-gdp"}
        assert names(q="ｂｕｓ") == {"zhifu-stops"}

    def test_english_is_stemmed(self):
        assert names(q="buses") == {"zhifu-stops"}
        assert names(q="stop") == {"zhifu-stops"}

    def test_full_pinyin_and_initials_find_the_title(self):
        assert names(q="gongjiao") == {"yt-transit"}
        assert names(q="gj") == {"yt-transit"}

    def test_unrelated_query_finds_nothing(self):
        assert names(q="医疗机构") == set()


@pytest.mark.usefixtures("datasets")
def test_search_index_rebuild_restores_the_index(cli, reset_index):
    from ckan.cli.cli import ckan

    reset_index()
    assert names(q="公交") == set()
    result = cli.invoke(ckan, ["search-index", "rebuild"])
    assert result.exit_code == 0, result.output
    assert names(q="公交") == {"yt-transit"}
