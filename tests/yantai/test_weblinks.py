"""The web addresses of applications: public http(s) sites only, kept as browsers go to them."""
from __future__ import annotations

import pytest

from ckanext.yantai import weblinks

pytestmark = pytest.mark.pure


@pytest.mark.parametrize("given, kept", [
    ("https://bus.example.cn/", "https://bus.example.cn/"),
    ("  HTTPS://Bus.Example.CN:8443/查询?线路=46#站点 ", "https://bus.example.cn:8443/查询?线路=46#站点"),
    ("\u200bhttp://bus.example.cn\u200b\u3000", "http://bus.example.cn"),
    ("https://ｂｕｓ.example.cn/", "https://bus.example.cn/"),
    ("https://烟台.中国/", "https://xn--kpr368d.xn--fiqs8s/"),
    ("http://8.8.8.8/", "http://8.8.8.8/"),
    ("http://[2001:4860::8888]/", "http://[2001:4860::8888]/"),
])
def test_public_addresses_are_kept_with_their_host_in_ascii(given, kept):
    assert weblinks.link(given) == kept


@pytest.mark.parametrize("given, code", [
    ("javascript:alert(1)", "link_scheme"),
    ("JAVASCRIPT:alert(1)//https://x.cn", "link_scheme"),
    ("vbscript:msgbox(1)", "link_scheme"),
    ("data:text/html;base64,PHNjcmlwdD4=", "link_scheme"),
    ("ftp://files.example.cn/", "link_scheme"),
    ("//bus.example.cn/", "link_scheme"),
    ("https:bus.example.cn", "link_scheme"),
    ("ｈｔｔｐｓ://bus.example.cn", "link_scheme"),
    ("bus.example.cn", "link_scheme"),
    ("java\tscript:alert(1)", "link_characters"),
    ("https://bus.example.cn/\u200bx", "link_characters"),
    ("https://bus.example.cn/a b", "link_characters"),
    ('https://bus.example.cn/"onmouseover="alert(1)', "link_characters"),
    ("https://bus.example.cn\\@evil.example.cn/", "link_characters"),
    ("https://bus.example.cn/<script>", "link_characters"),
    ("https://user:pass@bus.example.cn/", "link_credentials"),
    ("https://bus.example.cn@evil.example.cn/", "link_credentials"),
    ("http://localhost:5000/", "link_host"),
    ("http://portal.localhost/", "link_host"),
    ("https://foo.local/", "link_host"),
    ("https://router.lan/", "link_host"),
    ("https://x.internal/", "link_host"),
    ("https://nas.home.arpa/", "link_host"),
    ("https://Router.LAN./", "link_host"),
    ("http://intranet/", "link_host"),
    ("http://127.1/", "link_host"),
    ("http://10.1.2.3/", "link_host"),
    ("http://[::1]/", "link_host"),
    ("http://[::ffff:192.168.0.1]/", "link_host"),
    ("http://bus.example.cn:0/", "link_host"),
    ("http://bus.example.cn:70000/", "link_host"),
    ("http://[::1/", "link_host"),
    ("https:///path", "link_host"),
    ("https://" + "a" * 500 + ".cn/", "link_length"),
])
def test_other_addresses_are_refused_with_a_reason(given, code):
    with pytest.raises(weblinks.BadLink) as refused:
        weblinks.link(given)
    assert refused.value.code == code
