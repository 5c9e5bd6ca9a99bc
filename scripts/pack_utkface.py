#!/usr/bin/python3
"""Packs UTKFace chips into one small .tar.gz for a GPU host: every labelled chip resized to SIZE px
and re-encoded as JPEG, under its original name, so `tar xf` gives a folder that a train
config's `data.dir` reads as is (malformed names are skipped and counted, as the trainer does).

  scripts/pack_utkface.py ../shared/data/utkface utkface-96.tar.gz   # 43 MiB
"""
import argparse
import io
import os
import re
import sys
import tarfile

from PIL import Image

LABELLED = re.compile(r"^\d+_[01]_[0-4]_\d+\.jpg\.chip\.jpg$")


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("src", help="folder of UTKFace chips (AGE_GENDER_RACE_DATETIME.jpg.chip.jpg)")
    p.add_argument("out", help="output .tar.gz")
    p.add_argument("--size", type=int, default=96, help="side in px (64-128; default 96)")
    p.add_argument("--quality", type=int, default=85, help="JPEG quality (default 85)")
    a = p.parse_args()
    names = sorted(os.listdir(a.src))
    good = [n for n in names if LABELLED.match(n)]
    skipped = len([n for n in names if n.endswith(".jpg")]) - len(good)
    with tarfile.open(a.out + ".tmp", "w:gz", compresslevel=6) as tar:  # gz: tar padding
        for i, n in enumerate(good):
            im = Image.open(os.path.join(a.src, n)).convert("RGB")
            im = im.resize((a.size, a.size), Image.LANCZOS)
            buf = io.BytesIO()
            im.save(buf, "JPEG", quality=a.quality)
            info = tarfile.TarInfo(name="utkface/" + n)
            info.size = buf.tell()
            buf.seek(0)
            tar.addfile(info, buf)
            if i % 2000 == 0:
                print(f"{i}/{len(good)}", file=sys.stderr)
    os.replace(a.out + ".tmp", a.out)
    mib = os.path.getsize(a.out) / 2**20
    print(f"{a.out}: {len(good)} chips at {a.size} px, {mib:.1f} MiB; {skipped} malformed names skipped")


if __name__ == "__main__":
    main()
