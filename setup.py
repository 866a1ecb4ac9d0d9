"""Build the Cython kernels in ext/ into ``netsim._ext.*`` and map shipped data into the package.

Cython directives are set once here for every kernel. ``NETSIM_CYTHON_DEBUG=1`` at build time turns
bounds checking, wraparound and initialisation checks back on (for debugging a kernel; CI runs the
kernel tests on such a build too); the default build is the fast one.
"""

import os
from pathlib import Path

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

HERE = Path(__file__).parent
DEBUG = os.environ.get("NETSIM_CYTHON_DEBUG", "") not in ("", "0")

DIRECTIVES = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "cdivision": not DEBUG,
    # NOTE: nonecheck stays off in both builds: it checks ``self`` in the caches' nogil methods, which needs
    # the GIL (the debug build did not compile); no kernel takes an object that could be None
    "nonecheck": False,
    "embedsignature": True,
}

# NOTE: OpenMP lets prange kernels use both cores; gcc and clang on Linux ship it.
OPENMP = os.environ.get("NETSIM_OPENMP", "1") not in ("", "0")
compile_args = ["-O3"] + (["-fopenmp"] if OPENMP else []) + (["-O0", "-g"] if DEBUG else [])
link_args = ["-fopenmp"] if OPENMP else []

extensions = [
    Extension(
        f"netsim._ext.{pyx.stem}",
        [str(pyx.relative_to(HERE))],
        include_dirs=[np.get_include(), "ext"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=compile_args,
        extra_link_args=link_args,
    )
    for pyx in sorted((HERE / "ext").glob("*.pyx"))
]

# Shipped topologies, traces and scenarios live at the top of the repository (topologies/, traces/, scenarios/)
# and are installed as package data under netsim._data, found with importlib.resources.
DATA_DIRS = {"topologies": ["**/*.yaml", "**/*.md", "**/*.graphml", "**/*.json", "**/*.txt"],
             "traces": ["*.parquet", "*.csv", "*.md", "*.yaml"],
             "scenarios": ["*.yaml"]}

packages = sorted(
    str(p.parent.relative_to(HERE)).replace(os.sep, ".")
    for p in (HERE / "netsim").rglob("__init__.py")
)
DATA_DIRS = {name: globs for name, globs in DATA_DIRS.items() if (HERE / name).is_dir()}
package_dir = {f"netsim._data.{name}": name for name in DATA_DIRS}
packages += list(package_dir)
package_data = {f"netsim._data.{name}": globs for name, globs in DATA_DIRS.items()}
# Non-Python files inside the netsim packages themselves (the report's jinja2 template).
package_data["netsim.report"] = ["templates/*.j2"]

setup(
    packages=packages,
    package_dir=package_dir,
    package_data=package_data,
    ext_modules=cythonize(extensions, compiler_directives=DIRECTIVES, include_path=["ext"]),
)
