#!/usr/bin/python3
"""Packs UTKFace chips for a GPU host, in one of two forms:

  scripts/pack_utkface.py ../shared/data/utkface utkface-96.tar.gz   # 43 MiB of JPEGs
  scripts/pack_utkface.py --faces utkface-96.tar.gz utkface-96.faces # raw, no decoder needed

The .tar.gz holds every labelled chip resized to SIZE px and re-encoded as JPEG, under its
original name, so `tar xf` gives a folder that a train config's `data.dir` reads as is. It is
small enough to travel (at most 64 MiB go along with a GPU run).

--faces writes a face pack (train/data/packed_faces.h): a safetensors file holding
`images` uint8 [N,S,S,3] RGB and `labels` int32 [N,3] (age, gender, race), with the names in its
metadata. C++ reads it without OpenCV, so `data.dir` can name it on a LibTorch-only build. It is
raw (1.2 GB at 128 px), so it is made on the GPU host from the .tar.gz (Pillow is there).
SRC may be a folder of chips or a .tar.gz made by this script. Malformed names are skipped and
counted, as the trainer does; --limit keeps the first N names (rehearsals). --ages and --races
keep only the faces the tasks can use, so that 128 px fits in what travels:

  scripts/pack_utkface.py --size 128 --quality 80 --ages 18-60 --races 0,1 \
      ../shared/data/utkface .gpu-deps/utkface-128.tar.gz          # 9,470 faces, ~27 MiB

A subset splits held-out faces differently from a run on the whole folder (same seed).
"""
import argparse
import io
import json
import os
import re
import struct
import sys
import tarfile

try:
    from PIL import Image
except ImportError:  # --fake needs no Pillow
    Image = None

LABELLED = re.compile(r"^(\d+)_([01])_([0-4])_\d+\.jpg\.chip\.jpg$")
FACE_PACK_FORMAT = "facecycle-faces-1"


def chips(src, limit, ages=None, races=None):
    """Yields (name, opener) for every labelled chip in a folder or a .tar.gz, sorted by name."""
    if os.path.isdir(src):
        names = sorted(os.listdir(src))
        found = [(n, (lambda n=n: open(os.path.join(src, n), "rb"))) for n in names]
    else:
        tar = tarfile.open(src, "r:*")
        members = sorted((m for m in tar.getmembers() if m.isfile()),
                         key=lambda m: os.path.basename(m.name))
        found = [(os.path.basename(m.name), (lambda m=m: tar.extractfile(m))) for m in members]
    good = [(n, o) for n, o in found if LABELLED.match(n) and int(n.split("_")[0]) <= 120]
    skipped = len([n for n, _ in found if n.endswith(".jpg")]) - len(good)
    if ages:
        good = [(n, o) for n, o in good if ages[0] <= int(n.split("_")[0]) <= ages[1]]
    if races:
        good = [(n, o) for n, o in good if int(n.split("_")[2]) in races]
    if limit:  # evenly spaced, so that every age is still there (names start with the age)
        good = good[::max(1, len(good) // limit)][:limit]
    return good, skipped


def square(im, size):
    """Centre-crops to a square and resizes, as the trainer's load_square_face does."""
    im = im.convert("RGB")
    s = min(im.size)
    left, top = (im.size[0] - s) // 2, (im.size[1] - s) // 2
    im = im.crop((left, top, left + s, top + s))
    return im if s == size else im.resize((size, size), Image.LANCZOS)


def write_tar(good, out, size, quality):
    with tarfile.open(out + ".tmp", "w:gz", compresslevel=6) as tar:  # gz: tar padding
        for i, (n, opener) in enumerate(good):
            with opener() as f:
                im = square(Image.open(f), size)
            buf = io.BytesIO()
            im.save(buf, "JPEG", quality=quality)
            info = tarfile.TarInfo(name="utkface/" + n)
            info.size = buf.tell()
            buf.seek(0)
            tar.addfile(info, buf)
            if i % 2000 == 0:
                print(f"{i}/{len(good)}", file=sys.stderr)
    os.replace(out + ".tmp", out)


def safetensors_header(names, size):
    n, image_bytes = len(names), len(names) * size * size * 3
    header = {
        "__metadata__": {"format": FACE_PACK_FORMAT, "names": json.dumps(names)},
        "images": {"dtype": "U8", "shape": [n, size, size, 3], "data_offsets": [0, image_bytes]},
        "labels": {"dtype": "I32", "shape": [n, 3],
                   "data_offsets": [image_bytes, image_bytes + 12 * n]},
    }
    text = json.dumps(header).encode()
    return text + b" " * ((8 - len(text) % 8) % 8)


def write_faces(good, out, size):
    names = [n for n, _ in good]
    header = safetensors_header(names, size)
    with open(out + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header)
        for i, (n, opener) in enumerate(good):
            with opener() as src:
                f.write(square(Image.open(src), size).tobytes())
            if i % 5000 == 0:
                print(f"{i}/{len(good)}", file=sys.stderr)
        for n in names:
            age, gender, race = LABELLED.match(n).groups()
            f.write(struct.pack("<3i", int(age), int(gender), int(race)))
    os.replace(out + ".tmp", out)


def write_fake(n, out, size):
    """A face pack of n noise images with valid names (ages 18-60, races 0-1), for rehearsals
    on machines without the data set."""
    import random
    rng = random.Random(1)
    names = sorted(f"{18 + (i * 7) % 43}_{i % 2}_{(i // 2) % 2}_2017010100{i:05d}.jpg.chip.jpg"
                   for i in range(n))
    header = safetensors_header(names, size)
    with open(out, "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header)
        for _ in names:
            f.write(bytes(rng.randrange(256) for _ in range(size * size * 3)))
        for name in names:
            age, gender, race = LABELLED.match(name).groups()
            f.write(struct.pack("<3i", int(age), int(gender), int(race)))
    print(f"{out}: {n} noise faces at {size} px")


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("src", help="folder of UTKFace chips, or a .tar.gz made by this script")
    p.add_argument("out", help="output .tar.gz, or the face pack with --faces")
    p.add_argument("--faces", action="store_true", help="write a raw face pack (safetensors)")
    p.add_argument("--size", type=int, default=96, help="side in px (default 96)")
    p.add_argument("--quality", type=int, default=85, help="JPEG quality (default 85)")
    p.add_argument("--limit", type=int, default=0, help="keep only the first N faces")
    p.add_argument("--ages", help="keep ages LO-HI only, e.g. 18-60")
    p.add_argument("--races", help="keep these race codes only, e.g. 0,1")
    p.add_argument("--fake", type=int, default=0,
                   help="write a face pack of N noise faces instead (SRC is ignored)")
    a = p.parse_args()
    if a.fake:
        return write_fake(a.fake, a.out, a.size)
    ages = [int(v) for v in a.ages.split("-")] if a.ages else None
    races = {int(v) for v in a.races.split(",")} if a.races else None
    good, skipped = chips(a.src, a.limit, ages, races)
    if a.faces:
        write_faces(good, a.out, a.size)
    else:
        write_tar(good, a.out, a.size, a.quality)
    mib = os.path.getsize(a.out) / 2**20
    print(f"{a.out}: {len(good)} chips at {a.size} px, {mib:.1f} MiB; {skipped} malformed names skipped")


if __name__ == "__main__":
    main()
