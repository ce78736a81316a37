"""python manage.py import_products FILE [--dry-run] [--strict] [--encoding E] [--delimiter D]
[--map FIELD=COLUMN ...] [--sheet NAME] [--sync deactivate|delete] [--source NAME] [--queue]

FILE is a CSV, or an Excel workbook (.xlsx: its first sheet, or --sheet NAME). A CSV's
encoding and delimiter are detected from its first block unless given; each
`--map sku="Product Code"` names the column a catalogue field comes from (`--map
description=` leaves it out: never written); fields not named are suggested from the header.

Without --queue the import runs in this process (the same pipeline, heartbeat and outcome
recording as the worker), with a progress bar on stderr and a summary on stdout. It is
recorded as an ImportJob, so the history page lists shell imports too; its file is not
copied to storage, so such a job cannot be retried from the page (run the command again).
With --queue the file is stored like an upload and handed to the Celery worker; the command
follows the job's progress until it finishes. Either way the exit status is 0 only when the
import completed.
"""

from __future__ import annotations

import os
import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from acme.lib import queues
from imports import execution, progress, services, sources
from imports.column_mapping import MappingError, parse_map_options
from imports.detection import AUTO, DELIMITER_ALIASES, ENCODINGS
from imports.models import ImportJob
from imports.uploads import file_format

FOLLOW_POLL_SECONDS = 0.25
QUEUED_HINT_SECONDS = 15


class Command(BaseCommand):
    help = (
        "Import a product CSV or .xlsx workbook into the catalogue (in this process, or --queue "
        "for the worker)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="path of the CSV file")
        parser.add_argument(
            "--dry-run", action="store_true",
            help="validate only: report what would change, change nothing",
        )  # fmt: skip
        parser.add_argument("--strict", action="store_true",
                            help="any rejected record fails the whole import")  # fmt: skip
        parser.add_argument("--encoding", default=AUTO, choices=[AUTO, *ENCODINGS],
                            help="file encoding (default: detected from the file)")  # fmt: skip
        parser.add_argument(
            "--delimiter", default=AUTO,
            help='field delimiter: "auto" (default), ",", ";", "|" or "tab"',
        )  # fmt: skip
        parser.add_argument(
            "--map", action="append", default=[], metavar="FIELD=COLUMN", dest="mapping",
            help='the column a field comes from, e.g. --map sku="Product Code"; repeatable; '
            '"--map description=" leaves the field out (its stored values are kept)',
        )  # fmt: skip
        parser.add_argument("--sheet", default="",
                            help="an .xlsx sheet to read (default: the first)")  # fmt: skip
        parser.add_argument(
            "--sync", choices=["deactivate", "delete"], default="",
            help="sync mode: deactivate (or delete) the products the file does not name; "
            "try it with --dry-run first to see how many",
        )  # fmt: skip
        parser.add_argument(
            "--source", default="", metavar="NAME",
            help="a saved source: its settings apply wherever the options here leave them unset",
        )  # fmt: skip
        parser.add_argument(
            "--queue", action="store_true",
            help="store the file, run it on the Celery worker and follow its progress",
        )  # fmt: skip

    def handle(self, *args, **opts) -> None:
        path = opts["file"]
        if not os.path.isfile(path):
            raise CommandError(f"{path}: no such file")
        delimiter = DELIMITER_ALIASES.get(opts["delimiter"].lower())
        if delimiter is None:
            raise CommandError(
                f'unsupported delimiter {opts["delimiter"]!r}: use auto, ",", ";", "|" or "tab"'
            )
        try:
            mapping = parse_map_options(opts["mapping"])
        except MappingError as exc:
            raise CommandError(str(exc)) from None
        options = {
            "encoding": opts["encoding"],
            "delimiter": delimiter,
            "mapping": mapping,
            "validate_only": opts["dry_run"],
            "strict": opts["strict"],
            "sheet": opts["sheet"],
            "sync": opts["sync"],
        }
        if opts["source"].strip():
            try:
                options["saved_source"] = sources.source_named(opts["source"])
            except sources.UnknownSource as exc:
                raise CommandError(str(exc)) from None
        if opts["sheet"].strip() and file_format(path) != "xlsx":
            raise CommandError("--sheet applies to Excel workbooks (.xlsx) only")
        run = self._run_on_worker if opts["queue"] else self._run_here
        job = run(path, options)
        self._summarise(job)

    def _bar(self, total: int) -> tqdm:
        # tqdm needs the raw stream: Django's OutputWrapper appends a newline to each write.
        return tqdm(
            total=total, unit="B", unit_scale=True, unit_divisor=1024,
            file=getattr(self.stderr, "_out", self.stderr), dynamic_ncols=True, leave=False,
            mininterval=0.5,
        )  # fmt: skip

    def _run_here(self, path: str, options: dict) -> ImportJob:
        size = os.path.getsize(path)
        job = services.import_job_create_local(path=path, options=options, size=size)
        claimed = services.import_job_claim(job_id=job.pk)
        if claimed is None:  # created just above, queued for this process alone
            raise CommandError(f"import {job.pk} was claimed elsewhere; not running it here")
        job = claimed
        bar = self._bar(size)

        def listener(update) -> None:
            bar.set_description_str(
                f"{update.phase}: {update.step}" if update.step else update.phase
            )
            bar.update(update.bytes_processed - bar.n)

        # Ctrl-C asks the pipeline to stop between chunks (the catalogue stays unchanged);
        # a second Ctrl-C interrupts at once.
        def interrupt(signum, frame) -> None:
            progress.request_cancel(job.pk)
            signal.signal(signal.SIGINT, previous)

        previous = signal.getsignal(signal.SIGINT)
        try:
            signal.signal(signal.SIGINT, interrupt)
        except ValueError:  # not the main thread
            previous = None
        try:
            with open(path, "rb") as source:
                finished = execution.execute(job, source=source, listener=listener)
        finally:
            bar.close()
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
        return finished or ImportJob.objects.get(pk=job.pk)

    def _run_on_worker(self, path: str, options: dict) -> ImportJob:
        job = services.import_job_create_from_path(path=path, options=options)
        self.stderr.write(f"Import #{job.pk} queued; following its progress (Ctrl-C stops "
                          "following, not the import).")  # fmt: skip
        bar = self._bar(job.size)
        queued_since = time.monotonic()
        warned = False
        try:
            while True:
                state = progress.snapshot(job.pk)
                if state is None:
                    raise CommandError(f"import #{job.pk} disappeared")
                if state["finished"]:
                    break
                if state["status"] != "queued":
                    queued_since = time.monotonic()
                elif not warned and time.monotonic() - queued_since > QUEUED_HINT_SECONDS:
                    warned = True
                    queue = settings.ACME_QUEUES[queues.IMPORTS]
                    hint = f"Import #{job.pk} is still queued: is a worker consuming {queue!r}?"
                    bar.write(hint, file=bar.fp)
                phase, step = state.get("phase") or state["status"], state.get("step")
                bar.set_description_str(f"{phase}: {step}" if step else phase)
                done = state.get("bytes_processed") or 0
                bar.update(max(done - bar.n, 0))
                time.sleep(FOLLOW_POLL_SECONDS)
        except KeyboardInterrupt:
            raise CommandError(
                f"stopped following; import #{job.pk} continues on the worker "
                f"(see /imports/{job.pk}/)"
            ) from None
        finally:
            bar.close()
        return ImportJob.objects.get(pk=job.pk)

    def _summarise(self, job: ImportJob) -> None:
        out = self.stdout.write
        seconds = job.total_seconds
        took = f" in {seconds:.2f} s" if seconds is not None else ""
        out(f"Import #{job.pk} {job.status}{took}: {job.original_name}"
            f"{' (dry run: nothing was changed)' if job.validate_only else ''}")  # fmt: skip
        would = "would be " if job.validate_only else ""
        for label, value in (
            ("rows read", job.rows_read),
            ("valid", job.rows_valid),
            ("rejected", job.rows_rejected),
            (f"{would}created", job.created),
            (f"{would}updated", job.updated),
            ("unchanged", job.unchanged),
            *(((f"{would}deactivated", job.deactivated),) if job.sync == "deactivate" else ()),
            *(((f"{would}deleted", job.deleted),) if job.sync == "delete" else ()),
        ):
            out(f"  {label:<18}{value:>12,}")
        if job.file_format == "csv" and job.encoding != AUTO:
            out(f"  read as           {job.read_as_text}")
        if job.mapping:
            out(f"  columns:          {job.mapping_text}")
        if job.unknown_columns:
            out(f"  ignored columns: {', '.join(job.unknown_columns)}")
        if job.durations:
            order = [phase for phase in ImportJob.Phase.values if phase in job.durations]
            phases = ", ".join(f"{name} {job.durations[name]:.2f} s" for name in order)
            out(f"  phases: {phases}")
        if job.error_report:
            where = job.error_report.path if _local(job) else job.error_report.name
            out(f"  error report: {where}")
        if job.status == ImportJob.Status.COMPLETED:
            if job.validate_only:
                out(job.outcome_text)
            else:
                out(self.style.SUCCESS(job.outcome_text))
            return
        raise CommandError(job.outcome_text or f"import #{job.pk} ended {job.status}")


def _local(job: ImportJob) -> bool:
    try:
        job.error_report.path  # noqa: B018 - storages without local paths raise
    except NotImplementedError:
        return False
    return True
