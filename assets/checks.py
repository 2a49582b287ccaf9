"""Checks beside the assets they check: Great Expectations suites, and the import's own accounting."""


from dagster import AssetCheckResult, AssetCheckSeverity, AssetChecksDefinition, MetadataValue, asset_check

from assets.metadata import preview
from orchestration.resources import WarehouseResource
from warehouse.quality import SUITES, run_suite

QUARANTINE_WARN_SHARE = 0.01


def _suite_check(table: str) -> AssetChecksDefinition:
    @asset_check(asset=table, name=f"{table}_expectations",
                 description=f"Great Expectations suite for {table}: schema, required fields, ranges, id formats, uniqueness.")
    def check(warehouse: WarehouseResource) -> AssetCheckResult:
        with warehouse.reader() as con:
            outcome = run_suite(con, table)
        meta = outcome.metadata()
        return AssetCheckResult(passed=outcome.passed, severity=AssetCheckSeverity.ERROR,
                                metadata={**meta, "failures": MetadataValue.json(meta["failures"])})
    return check


suite_checks = [_suite_check(table) for table in SUITES]


@asset_check(asset="plays", description="Every row read is accounted for: read = loaded + duplicates + quarantined, per file.")
def plays_every_row_accounted(warehouse: WarehouseResource) -> AssetCheckResult:
    with warehouse.reader() as con:
        unbalanced = con.execute(
            "SELECT count(*) FROM import_files WHERE read <> loaded + duplicates + quarantined").fetchone()[0]
        files, read = con.execute("SELECT count(*), coalesce(sum(read), 0) FROM import_files").fetchone()
        return AssetCheckResult(passed=unbalanced == 0, metadata={
            "files": files, "rows_read": read, "unbalanced_files": unbalanced,
            "unbalanced": preview(con, "SELECT * FROM import_files WHERE read <> loaded + duplicates + quarantined LIMIT 10")})


@asset_check(asset="quarantine", description=f"Warns when more than {QUARANTINE_WARN_SHARE:.0%} of the rows read were quarantined.")
def quarantine_share(warehouse: WarehouseResource) -> AssetCheckResult:
    with warehouse.reader() as con:
        read = con.execute("SELECT coalesce(sum(read), 0) FROM import_files").fetchone()[0]
        quarantined = con.execute("SELECT count(*) FROM quarantine").fetchone()[0]
        share = quarantined / read if read else 0.0
        return AssetCheckResult(
            passed=share <= QUARANTINE_WARN_SHARE, severity=AssetCheckSeverity.WARN,
            metadata={"rows_read": read, "quarantined": quarantined, "share": round(share, 5),
                      "by_rule": preview(con, "SELECT rule, count(*) AS rows, any_value(source_file) AS example_file, "
                                              "any_value(detail) AS example FROM quarantine GROUP BY rule ORDER BY rows DESC"),
                      "sample": preview(con, "SELECT listener, source_file, source_row, rule, detail FROM quarantine LIMIT 10")})
