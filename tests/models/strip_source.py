"""Copies a TorchScript archive without the debug files that map its code to
the original Python source (*.debug_pkl), as a model saved without debug
information arrives. Usage: strip_source.py IN.pt OUT.pt"""
import sys
import zipfile

with zipfile.ZipFile(sys.argv[1]) as src, zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_STORED) as dst:
    for item in src.infolist():
        if not item.filename.endswith(".debug_pkl"):
            dst.writestr(item, src.read(item.filename))
