"""Development-only tools: the CoCalc simulator, the demo, a dev server, benchmark baselines.

The production app never imports this package (``tests/test_layout.py`` checks it); the CLI
loads it only for ``cocalc-gateway simulator`` and ``cocalc-gateway demo``.
"""
