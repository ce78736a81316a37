from html import unescape
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlparse

import pytest
from rest_framework.test import APIClient


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.by_rel: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("rel"):
            self.by_rel[attrs["rel"]] = unescape(attrs["href"])


@pytest.fixture
def many_lamps(make_product):
    for index in range(30):
        make_product(f"LAMP-{index:02d}", f"Lamp {index:02d}", active=index % 2 == 0)
    make_product("CHAIR-1", "Chair")


def test_list_page_next_and_previous_links_keep_filters_sort_and_size(staff_client, many_lamps):
    first = staff_client.get("/products/", {"name": "lamp", "ordering": "-name", "page_size": 25})
    assert len(first.context["page_obj"]) == 25
    assert "30 products match these filters" in " ".join(first.content.decode().split())

    links = Links()
    links.feed(first.content.decode())
    query = parse_qs(urlparse(links.by_rel["next"]).query)
    assert query == {"name": ["lamp"], "ordering": ["-name"], "page_size": ["25"], "page": ["2"]}

    second = staff_client.get("/products/" + links.by_rel["next"])
    names = [p.name for p in second.context["page_obj"]]
    assert names == ["Lamp 04", "Lamp 03", "Lamp 02", "Lamp 01", "Lamp 00"]
    links = Links()
    links.feed(second.content.decode())
    assert parse_qs(urlparse(links.by_rel["prev"]).query)["name"] == ["lamp"]


def test_page_size_select_keeps_the_filters(staff_client, many_lamps):
    html = staff_client.get("/products/", {"search": "lamp", "active": "true"}).content.decode()

    page_size_form = html[html.index('class="page-size"') :]
    assert 'name="search" value="lamp"' in page_size_form
    assert 'name="active" value="true"' in page_size_form


def test_api_next_link_keeps_the_filters(staff_user, many_lamps):
    client = APIClient()
    client.force_authenticate(staff_user)

    body = client.get(
        "/api/products/", {"active": "true", "search": "lamp", "page_size": 10}
    ).json()
    assert body["count"] == 15
    query = parse_qs(urlparse(body["next"]).query)
    assert query == {"active": ["true"], "search": ["lamp"], "page_size": ["10"], "page": ["2"]}

    second = client.get(body["next"]).json()
    assert len(second["results"]) == 5
    assert all(row["active"] and "LAMP" in row["sku"] for row in second["results"])
