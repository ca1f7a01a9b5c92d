#!/usr/bin/env python3
"""Extracts the files of a .deb into a folder, like `dpkg -x DEB DIR`, for machines without dpkg.

A .deb is an ar archive holding debian-binary, control.tar.* and data.tar.*; the files are in
data.tar (xz, gzip, bzip2 or uncompressed: what Python's tarfile reads; zstd is refused).

  python3 deb_extract.py libvulkan1_1.3.239.0-1_amd64.deb vulkan-root
"""
import io
import sys
import tarfile


def data_tar(deb_path):
    with open(deb_path, "rb") as f:
        blob = f.read()
    if blob[:8] != b"!<arch>\n":
        raise SystemExit("%s: not a .deb (no ar archive header)" % deb_path)
    pos = 8
    while pos + 60 <= len(blob):
        name = blob[pos:pos + 16].decode("ascii").strip().rstrip("/")
        size = int(blob[pos + 48:pos + 58].decode("ascii").strip())
        body = blob[pos + 60:pos + 60 + size]
        pos += 60 + size + (size & 1)
        if name.startswith("data.tar"):
            if name.endswith(".zst"):
                raise SystemExit("%s: %s is zstd-compressed, which Python's tarfile cannot read: install dpkg" % (deb_path, name))
            return body
    raise SystemExit("%s: no data.tar member" % deb_path)


def main():
    if len(sys.argv) != 3:
        raise SystemExit("usage: deb_extract.py DEB DIR")
    with tarfile.open(fileobj=io.BytesIO(data_tar(sys.argv[1]))) as tar:
        if hasattr(tarfile, "data_filter"):  # Python >= 3.12 (and security releases before it)
            tar.extractall(sys.argv[2], filter="data")
        else:
            tar.extractall(sys.argv[2])


if __name__ == "__main__":
    main()
