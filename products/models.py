"""The catalogue: one row per product, SKU unique case-insensitively.

Lookups and indexes agree: every case-insensitive filter is written against `lower(col)`
(see products/filters.py, which holds the filters and the free-text search), never Django's
`iexact`/`icontains`, which compile to UPPER(...) and could use none of these indexes.
"""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models.functions import Lower, Now


class Product(models.Model):
    name = models.CharField(max_length=255)
    sku = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True, db_default=Now())
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            # SKUs are unique case-insensitively; also serves `lower(sku) = %s` (the sku filter,
            # the duplicate check), `ORDER BY lower(sku)` (the "sku" sort) and the import
            # merge's ON CONFLICT (lower(sku)).
            models.UniqueConstraint(Lower("sku"), name="product_sku_lower_unique"),
        ]
        indexes = [
            # `ORDER BY name, id LIMIT 25 OFFSET n`: the default list order (pages, API, admin).
            models.Index(fields=["name", "id"], name="product_name_id"),
            # `ORDER BY updated_at, id` (the "updated" sort, both directions).
            models.Index(fields=["updated_at", "id"], name="product_updated_at_id"),
            # `WHERE NOT active`: inactive products are the rare case, so a partial index
            # keeps "inactive" filters and their counts fast at almost no write cost.
            models.Index(
                fields=["name", "id"],
                name="product_inactive_name_id",
                condition=models.Q(active=False),
            ),
            # `lower(sku) LIKE '%term%'`: the free-text search's sku branch.
            GinIndex(OpClass(Lower("sku"), name="gin_trgm_ops"), name="product_sku_lower_trgm"),
            # `lower(name) LIKE '%term%'`: the name filter and the search's name branch.
            GinIndex(OpClass(Lower("name"), name="gin_trgm_ops"), name="product_name_lower_trgm"),
            # `lower(description) LIKE '%term%'`: the description filter and the search's
            # description branch. The costly one, kept on purpose. Measured at 500,000 rows
            # (bench/products_index_cost.py, 2 shared cores): a COPY with every other index
            # takes 18 s, with this one too 68 s (+50 s; 120 s vs 52 s when the machine was
            # busy); building it on a loaded table takes 27-36 s; it is 102 MB. Without it a
            # rare description filter or search scans the table: 460 ms and 1.1 s for page 1,
            # 10-20x over the 50 ms budget. Imports that write a large share of the catalogue
            # build it once in a new table instead of maintaining it (imports.rebuild).
            GinIndex(
                OpClass(Lower("description"), name="gin_trgm_ops"),
                name="product_description_lower_trgm",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} — {self.name}"


def max_length(field_name: str) -> int:
    """The width of one of Product's character columns (the model is the limits' home)."""
    field = Product._meta.get_field(field_name)
    if not isinstance(field, models.CharField) or field.max_length is None:
        raise TypeError(f"Product.{field_name} is not a character column with a width")
    return field.max_length
