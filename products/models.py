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
            # SKUs are unique case-insensitively; also serves `lower(sku) = lower(%s)` lookups
            # and the import merge's ON CONFLICT (lower(sku)).
            models.UniqueConstraint(Lower("sku"), name="product_sku_lower_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} — {self.name}"
