"""Build glue that pyproject.toml cannot express: the component folders live at the repository top level
but install under the `edgepress` namespace, and runtime_edge's C core is compiled from source here."""
import os

from setuptools import Extension, setup

COMPONENTS = {"edgepress": "edgepress", "edgepress.convert": "convert", "edgepress.quantize": "quantize",
              "edgepress.prune": "prune", "edgepress.runtime_edge": "runtime_edge"}


def find_packages():
    packages = []
    for package, folder in COMPONENTS.items():
        for root, dirs, files in os.walk(folder):
            dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
            if "__init__.py" in files:
                packages.append(package + root[len(folder):].replace(os.sep, "."))
    return packages


def native_extensions():
    """The C core as one shared library; Python loads it with ctypes through the public header's API."""
    src = os.path.join("runtime_edge", "src")
    if not os.path.isdir(src):
        return []
    sources = sorted(os.path.join(root, f) for root, _, files in os.walk(src) for f in files if f.endswith(".c"))
    return [Extension("edgepress.runtime_edge._native", sources=sources,
                      include_dirs=[os.path.join("runtime_edge", "include")],
                      extra_compile_args=["-std=c11", "-O2", "-fvisibility=hidden", "-Wall", "-Wextra"],
                      extra_link_args=["-pthread", "-s"], libraries=["m"])]


setup(packages=find_packages(), package_dir=COMPONENTS, ext_modules=native_extensions())
