"""Stage 3, checks: findings about a model, its prose, its arches and its past.

``run`` runs every check over one tree (``prose``: comments against the annotations'
facts as ``reference`` flattens them; ``hygiene``: comments against the code;
``abidiff``: arch against arch and tree against baseline); ``rules`` holds waivers;
``review`` applies a ``patch`` to a copy of the tree and reports what it introduces;
``formats`` renders findings as text, JSON, SARIF or JUnit.
"""
