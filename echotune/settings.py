"""Where EchoTune keeps and finds its data: every path comes from the environment, never from code.

| variable | meaning | default |
|---|---|---|
| ECHOTUNE_HOME | working folder for the warehouse, landing zone and samples | ./data |
| ECHOTUNE_DB | the DuckDB warehouse file Dagster and the CLI write | $ECHOTUNE_HOME/warehouse/echotune.duckdb |
| ECHOTUNE_EXPORTS_DIR | Spotify exports: one sub-folder (or .zip) per listener | $ECHOTUNE_HOME/exports |
| ECHOTUNE_LANDING_DIR | drop new exports here (one sub-folder per listener); a sensor imports them | $ECHOTUNE_HOME/landing |
| ECHOTUNE_CATALOG_DIR | CSV catalogs with Spotify audio features | $ECHOTUNE_HOME/catalog |
| ECHOTUNE_LASTFM_DIR | the HetRec 2011 Last.fm set | $ECHOTUNE_HOME/lastfm_hetrec2011 |
| ECHOTUNE_SESSION_GAP_MINUTES | silence that ends a listening session | 30 |
| ECHOTUNE_MEMORY_LIMIT | DuckDB memory limit for imports (spills to disk beyond it) | 3GB |
| ECHOTUNE_MODELS_DIR | trained model bundles (candidate and served) | $ECHOTUNE_HOME/models |
| ECHOTUNE_PLAY_RULE | what counts as a play for model confidence: 30s, 50% or finished | 30s |
| ECHOTUNE_GATE_RATIO | the served model's nDCG@10 must reach this multiple of popularity's on HetRec, or it is blocked | 2 |
| ECHOTUNE_LLM_MODELS | chat providers tried in order, comma-separated litellm model names, each optionally `@api_base`; unset: the offline assistant only | unset |
| ECHOTUNE_LLM_TIMEOUT | seconds before a chat provider counts as failed and the next one answers | 30 |
| ECHOTUNE_RETRAIN_CRON | when the refresh_models schedule retrains (cron, UTC), once an operator turns it on | 0 4 * * * |
| ECHOTUNE_TUNE | 0: model_evaluation scores the models with the last full tuning's values instead of searching (minutes less on HetRec; the test suite's run on the shared data) | 1 |
| ECHOTUNE_STALE_DAYS | a freshness check warns when recommendations or Explore's tables are older than this | 7 |
| ECHOTUNE_ALERT_WEBHOOK | failed runs are posted here as JSON `{"text": ...}` (Slack, ntfy, Discord...) | unset |
| ECHOTUNE_REQUIRE_ACCOUNTS | 1: the dashboard shows nothing until someone signs in, even before the first account exists (set in docker-compose.yml) | unset: open until the first account is added |
| DAGSTER_GRAPHQL_URL | the Dagster webserver's GraphQL API, which the Monitoring page reads | http://127.0.0.1:3000/graphql |
| MONGODB_URI | MongoDB for feedback and served recommendations; unset: embedded montydb in $ECHOTUNE_HOME/operational | unset |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def _path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else default


@dataclass(frozen=True)
class Settings:
    home: Path
    db_path: Path
    exports_dir: Path
    landing_dir: Path
    catalog_dir: Path
    lastfm_dir: Path
    session_gap_minutes: int
    memory_limit: str
    models_dir: Path
    play_rule: str
    mongodb_uri: str | None
    gate_ratio: float = 2.0
    llm_models: str | None = None
    llm_timeout: float = 30.0
    retrain_cron: str = "0 4 * * *"
    stale_days: int = 7
    tune: bool = True

    @staticmethod
    def alert_webhook() -> str | None:
        return os.environ.get("ECHOTUNE_ALERT_WEBHOOK") or None

    @staticmethod
    def dagster_graphql_url() -> str:
        return os.environ.get("DAGSTER_GRAPHQL_URL") or "http://127.0.0.1:3000/graphql"

    @staticmethod
    def require_accounts() -> bool:
        return os.environ.get("ECHOTUNE_REQUIRE_ACCOUNTS", "").strip().lower() in ("1", "true", "yes")

    @classmethod
    def from_env(cls) -> Settings:
        home = _path("ECHOTUNE_HOME", Path("data"))
        return cls(
            home=home,
            db_path=_path("ECHOTUNE_DB", home / "warehouse" / "echotune.duckdb"),
            exports_dir=_path("ECHOTUNE_EXPORTS_DIR", home / "exports"),
            landing_dir=_path("ECHOTUNE_LANDING_DIR", home / "landing"),
            catalog_dir=_path("ECHOTUNE_CATALOG_DIR", home / "catalog"),
            lastfm_dir=_path("ECHOTUNE_LASTFM_DIR", home / "lastfm_hetrec2011"),
            session_gap_minutes=int(os.environ.get("ECHOTUNE_SESSION_GAP_MINUTES", "30")),
            memory_limit=os.environ.get("ECHOTUNE_MEMORY_LIMIT", "3GB"),
            models_dir=_path("ECHOTUNE_MODELS_DIR", home / "models"),
            play_rule=os.environ.get("ECHOTUNE_PLAY_RULE", "30s"),
            gate_ratio=float(os.environ.get("ECHOTUNE_GATE_RATIO", "2")),
            mongodb_uri=os.environ.get("MONGODB_URI") or None,
            llm_models=os.environ.get("ECHOTUNE_LLM_MODELS") or None,
            llm_timeout=float(os.environ.get("ECHOTUNE_LLM_TIMEOUT", "30")),
            retrain_cron=os.environ.get("ECHOTUNE_RETRAIN_CRON") or "0 4 * * *",
            stale_days=int(os.environ.get("ECHOTUNE_STALE_DAYS", "7")),
            tune=os.environ.get("ECHOTUNE_TUNE", "1").strip().lower() not in ("0", "false", "no"),
        )
