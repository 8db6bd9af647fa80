"""The one thing pyproject.toml cannot say with the setuptools the project supports: the
optional C helper of the libclang walk (headerparse/extract/_rows.c).  Where no C
compiler is, the build goes on without it and the walk makes its calls through ctypes."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("headerparse.extract._rows",
                             ["headerparse/extract/_rows.c"], optional=True)])
