"""Replication to the secondary region: catalog model and sync, job DR copies and imports,
snapshots, and the bundle that ties them together (``usqlrw replicate``)."""
from .bundle import Bundle, build_bundle, write_bundle
from .catalog import Model, build_model
from .staging import StagingError

__all__ = ["Bundle", "build_bundle", "write_bundle", "Model", "build_model", "StagingError"]
