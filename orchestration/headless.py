"""The asset graph (or a selection of it) run without any UI, on the Dagster instance the UI reads: for cron jobs,
CI and first set-up (`echotune materialize`). Each finished step is handed to a callback, for a progress display."""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

from dagster import (
    AssetCheckSeverity,
    AssetSelection,
    BetaWarning,
    DagsterEventType,
    DagsterInstance,
    DagsterInvalidSubsetError,
    Definitions,
    define_asset_job,
    logger,
)

JOB = "echotune_materialize"
FINISHED = {DagsterEventType.STEP_SUCCESS: "done", DagsterEventType.STEP_FAILURE: "failed",
            DagsterEventType.STEP_SKIPPED: "skipped"}

StepCallback = Callable[[str, str], None]  # (step, "done" | "failed" | "skipped")


@dataclass
class HeadlessRun:
    run_id: str
    steps: int
    failed_steps: list[str] = field(default_factory=list)   # the assets (or checks) of each failed step
    failed_checks: list[str] = field(default_factory=list)  # asset:check, error severity
    warnings: list[str] = field(default_factory=list)       # asset:check, warn severity

    @property
    def success(self) -> bool:
        return not (self.failed_steps or self.failed_checks)


def instance_in_use() -> tuple[DagsterInstance, str]:
    """$DAGSTER_HOME's instance (the one the UI and the daemon read), else a throwaway one, saying which."""
    if os.environ.get("DAGSTER_HOME"):
        return DagsterInstance.get(), f"Dagster instance {os.environ['DAGSTER_HOME']}"
    return DagsterInstance.ephemeral(), "a throwaway Dagster instance ($DAGSTER_HOME is not set: runs are not kept)"


def run_selection(defs: Definitions, selection: str | None, instance: DagsterInstance,
                  on_start: Callable[[int], None], on_step: StepCallback) -> HeadlessRun:
    """Materialize `selection` (Dagster's selection syntax; None: everything) with its checks, in this process.
    `on_start` gets the number of steps, `on_step` each finished one, named by its assets and checks."""
    job = _job_defs(defs, selection, lambda key, how: on_step(_step_entities(job, key), how)).resolve_job_def(JOB)
    if not job.graph.nodes:
        raise DagsterInvalidSubsetError("it selects no asset (see `dagster asset list` or the Dagster UI for keys)")
    on_start(len(job.graph.nodes))
    result = job.execute_in_process(instance=instance, raise_on_error=False,
                                    run_config={"loggers": {"echotune_progress": {}}})
    outcome = HeadlessRun(run_id=result.run_id, steps=len(job.graph.nodes))
    for failure in result.get_step_failure_events():
        outcome.failed_steps.append(_step_entities(job, failure.step_key))
    for check in result.get_asset_check_evaluations():
        if not check.passed:
            name = f"{check.asset_key.to_user_string()}:{check.check_name}"
            (outcome.warnings if check.severity == AssetCheckSeverity.WARN else outcome.failed_checks).append(name)
    return outcome


def _job_defs(defs: Definitions, selection: str | None, on_step: StepCallback) -> Definitions:
    # A multi-asset that cannot be split (the export import writes five tables at once) runs whole when any of its
    # tables is selected, instead of refusing the selection.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BetaWarning)  # the selection parser's own use of a beta parameter
        chosen = AssetSelection.from_string(selection) if selection else AssetSelection.all()
    return Definitions(assets=defs.assets, asset_checks=defs.asset_checks, resources=defs.resources,
                       jobs=[define_asset_job(JOB, selection=chosen.required_multi_asset_neighbors())],
                       loggers={"echotune_progress": _progress_logger(on_step)})


def _step_entities(job, step_key: str) -> str:
    """A step named by what it materializes or checks, which is what an operator knows (a check's step holds only
    its check; a multi-asset's step every table it writes)."""
    from dagster import AssetKey
    from dagster._core.definitions.dependency import NodeHandle

    keys = job.asset_layer.get_selected_entity_keys_for_node(NodeHandle.from_string(step_key))
    names = sorted(k.to_user_string() if isinstance(k, AssetKey) else f"{k.asset_key.to_user_string()}:{k.name}"
                   for k in keys)
    return ", ".join(names) or step_key


def _progress_logger(on_step: StepCallback):
    """A Dagster logger that hands finished steps to `on_step` and keeps the run's debug chatter off the terminal."""

    class StepHandler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            event = getattr(record, "dagster_meta", {}).get("dagster_event")
            if event is not None and event.event_type in FINISHED:
                on_step(event.step_key, FINISHED[event.event_type])

    @logger(description="Reports finished steps to the command's progress display.")
    def echotune_progress(_context) -> logging.Logger:
        log = logging.Logger("echotune_progress", logging.DEBUG)
        log.addHandler(StepHandler())
        return log

    return echotune_progress
