"""The version of physioemo (core: any module may import it)."""

__version__ = "0.2.0"
