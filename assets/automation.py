"""When Dagster rebuilds an asset on its own: the automation sensor (orchestration/definitions.py) evaluates these
conditions every 30 seconds, whichever door the new data came in by (a Dagster run, or an import reported as a
runless materialization by orchestration/import_events.py).

Training is kept to once per burst of imports: every import reported within one sensor interval becomes one
request; `eager` never starts an asset that is in progress or whose upstream is, so imports arriving while the model
trains are folded into a single catch-up run after it; and tuning is not part of it (see WHEN_MISSING).
"""

from dagster import AutomationCondition

# Derived tables, features, the served model and the recommendations: rebuilt once their upstream has changed.
ON_UPSTREAM_CHANGE = AutomationCondition.eager()

# Tuning every model (model_evaluation, minutes on real data) runs only when it has never run: a newly imported
# listener is served after retraining with the last tuned parameters; re-tuning is the refresh_models job's.
WHEN_MISSING = AutomationCondition.on_missing()
