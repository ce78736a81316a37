import datetime

import pytest
from django.db import DatabaseError, connection

from products.models import Product
from tests.imports.pipeline.conftest import catalogue

EXPLODE_ON_SKU = """
CREATE FUNCTION pg_temp.explode_on_sku() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.sku = 'explodes' THEN
        RAISE EXCEPTION 'provoked failure in the middle of the merge';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER explode_on_sku BEFORE INSERT OR UPDATE ON products_product
    FOR EACH ROW EXECUTE FUNCTION pg_temp.explode_on_sku();
"""


@pytest.mark.django_db
def test_a_database_error_in_the_middle_of_the_merge_leaves_the_catalogue_unchanged(
    import_bytes,
):
    Product.objects.create(sku="existing", name="Before", description="")
    Product.objects.update(updated_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    before = catalogue()
    with connection.cursor() as cursor:
        cursor.execute(EXPLODE_ON_SKU)
    # The update of "existing" runs first, then inserts: new-1 and new-2 are written,
    # then the trigger fails on "explodes".
    rows = "".join(f"new-{n},New {n}\n" for n in range(1, 500))

    with pytest.raises(DatabaseError, match="provoked failure"):
        import_bytes(f"sku,name\nexisting,After\n{rows}explodes,Boom\nnew-999,Late\n")

    assert catalogue() == before
