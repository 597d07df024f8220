"""``python -m sim``: the same command line as ``grassroots``.

This entry module is the only place in ``sim`` that reaches the CLI (which lives in
``experiments``); the library modules of ``sim`` never import ``experiments`` or ``viz``.
"""

from importlib import import_module

if __name__ == "__main__":
    import_module("experiments.cli").main()
