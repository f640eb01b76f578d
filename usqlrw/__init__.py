"""usqlrw: parse, check and rewrite U-SQL scripts for Azure Data Lake Analytics disaster recovery.

    >>> import usqlrw
    >>> script = usqlrw.parse('@r = SELECT * FROM @t;')
    >>> script.statements[0].kind
    'RowsetAssignment'

Heavy modules (Lark, click, Pygments, the Azure SDK) load only when first used.
"""
__version__ = "0.1.0"

__all__ = ["parse", "USqlSyntaxError", "__version__"]


def __getattr__(name):
    if name in ("parse", "USqlSyntaxError", "parse_source"):
        from . import parser
        return getattr(parser, name)
    raise AttributeError(f"module 'usqlrw' has no attribute {name!r}")
