"""Stage 2, annotations: what each hypercall argument means, per ABI variant.

Hand-written YAML files (format in ``docs/annotations.md``) are read by ``yamlnodes`` and
validated by ``schema``; ``bind`` joins them with what the model and ``hypercall-defs.c``
(``hypercall_defs``, ``derive``) already say and checks their layout ``pins``; the
result is an :class:`~headerparse.annotations.types.AnnotationSet` (``types``).
``load`` is the one way every command finds, reads and binds them; ``describe`` renders
them for ``show``.
"""
