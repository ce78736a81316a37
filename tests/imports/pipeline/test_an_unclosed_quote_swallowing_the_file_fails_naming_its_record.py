import pytest

from imports.pipeline import ImportFailed
from products.models import Product


@pytest.mark.django_db
def test_a_field_over_the_size_limit_fails_naming_the_record_where_it_starts(import_bytes):
    rest_of_file = "".join(f"sku-{n},Name {n},description {n}\n" for n in range(40_000))
    data = f'sku,name,description\na,A,fine\nb,B,"never closed\n{rest_of_file}'

    with pytest.raises(ImportFailed) as failure:
        import_bytes(data)

    assert str(failure.value).startswith("record 2, line 3: the record cannot be read")
    assert "is a quote left open?" in str(failure.value)
    assert not Product.objects.exists()
