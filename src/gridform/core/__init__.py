"""The ground floor: the nouns every other layer uses.

``environment`` (the box), ``place_cells`` (the place-cell code), ``trajectories`` (the
random walk), ``models`` (the path-integrating RNN), ``ratemaps`` (the ``(cell, y, x)``
maps and their files), ``reference`` (the paper's defaults and published numbers), and
the plumbing (``errors``, ``io``, ``compile_cache``, ``lazy``). Nothing here imports
another layer of gridform.
"""
