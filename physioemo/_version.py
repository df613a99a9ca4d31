"""The version of physioemo (core: any module may import it)."""

__version__ = "0.1.0"
