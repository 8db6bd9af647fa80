"""headerparse: the Xen public headers as an ABI, documented and checked."""

__version__ = "0.1.0"
