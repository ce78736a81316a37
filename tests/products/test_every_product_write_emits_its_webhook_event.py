import pytest

from products import services


def test_create_update_and_delete_each_emit_one_event_with_the_product_fields(
    make_product, emitted
):
    product = make_product("EV-1", "Event Lamp", "desc")
    services.product_update(product=product, name="Renamed Lamp")
    services.product_set_active(product=product, active=False)
    product_id = product.id
    services.product_delete(product=product)

    events = emitted()
    assert [event_type for event_type, _ in events] == [
        "product.created",
        "product.updated",
        "product.updated",
        "product.deleted",
    ]
    created = events[0][1]
    assert set(created) == {
        "id",
        "sku",
        "name",
        "description",
        "active",
        "created_at",
        "updated_at",
    }
    assert created["id"] == product_id
    assert created["sku"] == "EV-1"
    assert events[1][1]["name"] == "Renamed Lamp"
    assert events[2][1]["active"] is False
    assert events[3][1]["id"] == product_id


def test_an_update_that_changes_nothing_emits_nothing(make_product, emitted):
    product = make_product("EV-2", "Same")

    services.product_update(product=product, name="Same", sku=" EV-2 ")

    assert [event_type for event_type, _ in emitted()] == ["product.created"]


def test_delete_all_emits_a_single_event_with_the_count(make_product, emitted):
    for index in range(3):
        make_product(f"ALL-{index}")

    deleted = services.products_delete_all()

    assert deleted == 3
    assert emitted()[-1] == ("products.deleted_all", {"count": 3})
    assert [t for t, _ in emitted()].count("products.deleted_all") == 1
    assert [t for t, _ in emitted()].count("product.deleted") == 0


def test_a_refused_write_emits_nothing(make_product, emitted):
    make_product("taken")
    with pytest.raises(services.ProductSkuTaken):
        services.product_create(sku="TAKEN", name="Dup")

    assert [event_type for event_type, _ in emitted()] == ["product.created"]
