"""Every write to the catalogue. Each one emits its webhook event inside its transaction."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models.functions import Lower

from acme.lib import pg_errors
from imports.services import import_job_delete_all
from products.event_data import ProductEventData, ProductsDeletedAllEventData
from products.models import Product, max_length
from products.text_rules import control_character_problem
from webhooks import events

SKU_UNIQUE_CONSTRAINT = "product_sku_lower_unique"
SKU_TAKEN_MESSAGE = "A product with this SKU already exists."
EDITABLE_FIELDS = ("sku", "name", "description", "active")
# The model's column widths, checked here so a user gets a message instead of a DataError.
SKU_MAX_LENGTH = max_length("sku")
NAME_MAX_LENGTH = max_length("name")
# (field, label, multi-line) for the control-character rule of products.text_rules.
TEXT_FIELDS = (("sku", "SKU", False), ("name", "Name", False), ("description", "Description", True))
# Delete-all waits at most this long for running queries (an export, an import merge) to
# release the table, so it never holds every other page hostage behind its lock request.
DELETE_ALL_LOCK_TIMEOUT = "3s"
# A single-product write waits at most this long for a lock: a bulk import holds catalogue
# writes off until it commits (imports.rebuild), and its final swap must not wait for a
# write that holds a read lock while queued behind the import.
WRITE_LOCK_TIMEOUT = "5s"
BUSY_MESSAGE = "The catalogue is busy (an import is being merged). Try again in a moment."


class ProductError(Exception):
    """A write a user asked for that cannot be done; `field` names the input at fault."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ProductSkuTaken(ProductError):
    def __init__(self) -> None:
        super().__init__(SKU_TAKEN_MESSAGE, field="sku")


class CatalogueBusy(ProductError):
    pass


@contextmanager
def catalogue_write():
    """A transaction for one write, giving up with CatalogueBusy after WRITE_LOCK_TIMEOUT."""
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{WRITE_LOCK_TIMEOUT}'")
            yield
    except OperationalError as error:
        # lock_not_available, or deadlock_detected: this write held a read lock the merge's
        # swap waits for while it waited for the merge.
        if pg_errors.is_lock_conflict(error):
            raise CatalogueBusy(BUSY_MESSAGE) from error
        raise


def product_payload(product: Product) -> dict[str, Any]:
    """The event data for one product (the API's JSON fields)."""
    return dict(ProductEventData(product).data)


def normalize_sku(sku: str) -> str:
    return (sku or "").strip()


def sku_exists(*, sku: str, exclude_id: int | None = None) -> bool:
    """Whether another product has `sku` in any case (served by product_sku_lower_unique)."""
    queryset = Product.objects.alias(sku_lower=Lower("sku")).filter(
        sku_lower=normalize_sku(sku).lower()
    )
    if exclude_id is not None:
        queryset = queryset.exclude(id=exclude_id)
    return queryset.exists()


def sku_available(*, sku: str, exclude_id: int | None = None) -> str:
    """`sku` normalized, or ProductSkuTaken when another product has it in any case.

    The one rule every input (page form, API serializer, admin form, the writes below)
    checks before saving; the unique index still decides a race between two writers."""
    sku = normalize_sku(sku)
    if sku_exists(sku=sku, exclude_id=exclude_id):
        raise ProductSkuTaken()
    return sku


def _validate(product: Product) -> None:
    if not product.sku:
        raise ProductError("SKU is required.", field="sku")
    if len(product.sku) > SKU_MAX_LENGTH:
        raise ProductError(f"SKU is longer than {SKU_MAX_LENGTH} characters.", field="sku")
    if not product.name.strip():
        raise ProductError("Name is required.", field="name")
    if len(product.name) > NAME_MAX_LENGTH:
        raise ProductError(f"Name is longer than {NAME_MAX_LENGTH} characters.", field="name")
    for field, label, multi_line in TEXT_FIELDS:
        problem = control_character_problem(getattr(product, field), multi_line=multi_line)
        if problem:
            raise ProductError(f"{label} {problem}.", field=field)


def _save(product: Product) -> None:
    """Save, turning the unique lower(sku) violation (a concurrent twin) into ProductSkuTaken."""
    sku_available(sku=product.sku, exclude_id=product.pk)
    try:
        # A savepoint, so the caller's transaction survives a lost race.
        with transaction.atomic():
            product.save()
    except IntegrityError as error:
        diag = getattr(error.__cause__, "diag", None)
        if getattr(diag, "constraint_name", None) == SKU_UNIQUE_CONSTRAINT:
            raise ProductSkuTaken() from error
        raise


@catalogue_write()
def product_create(*, sku: str, name: str, description: str = "", active: bool = True) -> Product:
    product = Product(
        sku=normalize_sku(sku), name=name or "", description=description or "", active=active
    )
    _validate(product)
    _save(product)
    events.emit("product.created", product_payload(product))
    return product


@catalogue_write()
def product_update(*, product: Product, **changes: Any) -> Product:
    """Apply `changes` (any of sku, name, description, active); emits only if something changed."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"product_update() got unknown fields: {', '.join(sorted(unknown))}")
    if "sku" in changes:
        changes["sku"] = normalize_sku(changes["sku"])
    for field in ("name", "description"):
        if field in changes and changes[field] is None:
            changes[field] = ""
    changed = [field for field, value in changes.items() if getattr(product, field) != value]
    if not changed:
        return product
    for field in changed:
        setattr(product, field, changes[field])
    _validate(product)
    _save(product)
    events.emit("product.updated", product_payload(product))
    return product


@catalogue_write()
def product_set_active(*, product: Product, active: bool) -> Product:
    return product_update(product=product, active=active)


@catalogue_write()
def product_delete(*, product: Product) -> None:
    payload = product_payload(product)
    product.delete()
    events.emit("product.deleted", payload)


@transaction.atomic
def products_delete_all(*, user=None) -> int:
    """Delete every product in TRUNCATE time (whatever the catalogue's size), revertibly,
    and emit one products.deleted_all event.

    Steps:
    1. Take the ACCESS EXCLUSIVE lock step 2 needs anyway, waiting at most
       DELETE_ALL_LOCK_TIMEOUT for running readers/writers (else CatalogueBusy): requests
       queued behind our lock request wait at most that long, never for minutes.
    2. Delete them, revertibly, and record a delete-all job in the import history
       (imports.services.import_job_delete_all): the live table is set aside and an empty
       one swapped in, catalog changes only (imports.deleted_products); reverting the job
       puts the products back with their ids within IMPORT_FILE_RETENTION_DAYS. Its count,
       taken under the lock, is exactly what is deleted. Ids are never reused: the empty
       table's sequence goes on where the old one was (webhook consumers key on ids).
    3. Emit the event in the same transaction; it commits or rolls back with the delete.
    """

    table = connection.ops.quote_name(Product._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{DELETE_ALL_LOCK_TIMEOUT}'")
        try:
            with transaction.atomic():
                cursor.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        except OperationalError as error:
            if pg_errors.is_lock_timeout(error):
                raise CatalogueBusy(
                    "The catalogue is busy (an import or export is running). Try again in a moment."
                ) from error
            raise
        count = import_job_delete_all(cursor=cursor, user=user).deleted
        cursor.execute("SET LOCAL lock_timeout = DEFAULT")
    events.emit("products.deleted_all", dict(ProductsDeletedAllEventData({"count": count}).data))
    return count
