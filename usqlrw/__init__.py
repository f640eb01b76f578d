"""usqlrw: parse, check and rewrite U-SQL scripts for Azure Data Lake Analytics disaster recovery.

    >>> import usqlrw
    >>> script = usqlrw.parse('@r = SELECT * FROM @t;')
    >>> script.statements[0].kind
    'RowsetAssignment'

Heavy modules (Lark, click, Pygments, the Azure SDK) load only when first used.
"""
__version__ = "0.1.0"

__all__ = ["parse", "USqlSyntaxError", "rewrite_text", "load_config", "__version__"]


_SUBMODULES = {"ast", "config", "rewrite", "resolve", "locations", "source", "files", "diagnostics",
               "transforms", "batch", "refs", "check", "lint", "highlight", "jobs", "replicate", "failover"}


def __getattr__(name):
    if name in ("parse", "USqlSyntaxError", "parse_source"):
        from . import parser
        return getattr(parser, name)
    if name in ("rewrite_text", "RewriteResult"):
        from . import rewrite
        return getattr(rewrite, name)
    if name in ("load_config", "DRConfig", "ConfigError"):
        from . import config
        return getattr(config, name)
    if name in _SUBMODULES:
        import importlib
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'usqlrw' has no attribute {name!r}")
