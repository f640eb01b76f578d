"""One-command failover: plan, apply (resumable, retried, locked), status.

``make_plan`` checks every script and lays out what a failover does on the secondary:

1. ``catalog``: create or resync the catalog objects (the replication bundle's sync DDL; after a
   plan that was applied, only what changed since, so an added column reaches the secondary);
2. ``import``: replication imports still to run (the bundle's secondary import scripts);
3. ``job``: every job script, rewritten for the secondary, with its parameters.

Each step names the steps it ``needs`` (catalog before imports before the jobs; a job after an
earlier job that writes a database it uses), so independent steps can run together.

The plan is a folder: ``plan.json`` (format ``usqlrw-failover-plan/2``), ``plan.md`` (the same, to
read), the exact scripts under ``scripts/``, the catalog model under ``catalog/`` and, once
applied, ``state.json``, ``ledger.jsonl`` (every submission, usqlrw.jobs.submit.Ledger) and
``report.json`` (``usqlrw failover report`` tells it all, as text, JSON or one HTML page:
:func:`drill_report`, :mod:`usqlrw.failover.html`). Every plan has its own ``run_id``; a step's job id is derived from it and the
step's attempt, so a new plan never reuses an earlier plan's jobs, a rerun of the same plan never
submits a step twice, and a retried step (its job ended Failed or Cancelled) gets a new job.

Everything read back is checked before it is trusted (:mod:`usqlrw.schema`): every account must be
one the DR config names, every script must lie in the plan folder and match its hash, the DR config
(found relative to the plan) and the source scripts must be as they were. Otherwise
:class:`PlanError` and nothing is sent.

A real failover never falls back to an emulator: only a config that says ``options.emulator = true``
(drills, the bundled example) or an explicit ``--endpoint`` sends the jobs anywhere but Azure.
"""
from .apply import apply_plan
from .folder import (FORMAT, MODES, STATE_FORMAT, Blocker, Plan, PlanError, changed_sources, is_ddl_only,
                     load_plan, load_state, plan_config, previous_model, status_rows, write_plan)
from .planning import job_parameters, make_plan, replication_rpo
from .history import drill_report, report_lines
from .report import manual_lines, render_markdown, table

__all__ = ["FORMAT", "MODES", "STATE_FORMAT", "Blocker", "Plan", "PlanError", "apply_plan", "changed_sources",
           "drill_report", "report_lines",
           "is_ddl_only", "job_parameters", "load_plan", "load_state", "make_plan", "manual_lines", "plan_config",
           "previous_model", "render_markdown", "replication_rpo", "status_rows", "table", "write_plan"]
