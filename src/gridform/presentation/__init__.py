"""What a user sees: figures (``plotting``, ``figures``), HTML pages (``htmlpage``,
``report``, ``sweep_report``). It reads what the experiments saved and computes nothing
that they already know."""
