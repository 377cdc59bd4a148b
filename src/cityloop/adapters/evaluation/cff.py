"""Subset a CID-keyed CFF font (Adobe TN #5176, Type 2 charstrings TN #5177) for embedding.

Glyph ids are kept: every glyph not used becomes an empty ``endchar`` and every subroutine not
reached from a used glyph an empty ``return``, so charset, FDSelect and the subroutine biases
stay valid and the PDF can address glyphs by their original id (CID = GID for the Identity
ordering of Noto Sans CJK). A full CJK font is 15 MB; the subset is a few hundred kB before
compression, mostly the offsets of the empty glyphs.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass

ENDCHAR = b"\x0e"
RETURN = b"\x0b"

# DICT operators whose operands are offsets we rewrite.
CHARSTRINGS, CHARSET, PRIVATE, SUBRS = 17, 15, 18, 19
FDARRAY, FDSELECT = (12, 36), (12, 37)

Op = int | tuple[int, int]


def _index(data: bytes, pos: int) -> tuple[list[bytes], int]:
    (count,) = struct.unpack_from(">H", data, pos)
    if count == 0:
        return [], pos + 2
    size = data[pos + 2]
    offsets = [
        int.from_bytes(data[pos + 3 + i * size : pos + 3 + (i + 1) * size], "big")
        for i in range(count + 1)
    ]
    base = pos + 2 + (count + 1) * size
    items = [data[base + offsets[i] : base + offsets[i + 1]] for i in range(count)]
    return items, base + offsets[-1]


def write_index(items: list[bytes]) -> bytes:
    if not items:
        return b"\x00\x00"
    total = sum(len(i) for i in items) + 1
    size = 1 if total < 1 << 8 else 2 if total < 1 << 16 else 3 if total < 1 << 24 else 4
    out = bytearray(struct.pack(">HB", len(items), size))
    offset = 1
    out += offset.to_bytes(size, "big")
    for item in items:
        offset += len(item)
        out += offset.to_bytes(size, "big")
    for item in items:
        out += item
    return bytes(out)


@dataclass
class _Entry:
    op: Op
    raw: bytes  # the operand bytes as found
    values: list[float | int]


def _dict(data: bytes) -> list[_Entry]:
    entries: list[_Entry] = []
    start, i = 0, 0
    values: list[float | int] = []
    while i < len(data):
        b0 = data[i]
        if b0 <= 21:
            op: Op = (12, data[i + 1]) if b0 == 12 else b0
            entries.append(_Entry(op, data[start:i], values))
            i += 2 if b0 == 12 else 1
            start, values = i, []
        elif b0 == 28:
            values.append(struct.unpack_from(">h", data, i + 1)[0])
            i += 3
        elif b0 == 29:
            values.append(struct.unpack_from(">i", data, i + 1)[0])
            i += 5
        elif b0 == 30:
            i += 1
            while True:
                byte = data[i]
                i += 1
                if (byte & 0x0F) == 0x0F or (byte >> 4) == 0x0F:
                    break
            values.append(0.0)
        elif 32 <= b0 <= 246:
            values.append(b0 - 139)
            i += 1
        elif 247 <= b0 <= 250:
            values.append((b0 - 247) * 256 + data[i + 1] + 108)
            i += 2
        elif 251 <= b0 <= 254:
            values.append(-(b0 - 251) * 256 - data[i + 1] - 108)
            i += 2
        else:
            raise ValueError(f"bad DICT byte {b0}")
    return entries


def _int5(value: int) -> bytes:
    return b"\x1d" + struct.pack(">i", value)


def _op_bytes(op: Op) -> bytes:
    return bytes(op) if isinstance(op, tuple) else bytes([op])


def _write_dict(entries: list[_Entry], replace: dict[Op, list[int]]) -> bytes:
    out = bytearray()
    for e in entries:
        if e.op in replace:
            out += b"".join(_int5(v) for v in replace[e.op])
        else:
            out += e.raw
        out += _op_bytes(e.op)
    return bytes(out)


def _get(entries: list[_Entry], op: Op) -> list[float | int] | None:
    return next((e.values for e in entries if e.op == op), None)


def _bias(count: int) -> int:
    return 107 if count < 1240 else 1131 if count < 33900 else 32768


class _Scanner:
    """Walks Type 2 charstrings to find the subroutines they call."""

    def __init__(self, gsubrs: list[bytes]) -> None:
        self.gsubrs = gsubrs
        self.used_global: set[int] = set()

    def scan(self, code: bytes, local: list[bytes], used_local: set[int]) -> None:
        self.stems = 0
        self._run(code, local, used_local, 0)

    def _run(self, code: bytes, local: list[bytes], used_local: set[int], depth: int) -> bool:
        """False when ``endchar`` ended the glyph."""
        if depth > 12:
            return True
        stack: list[int] = []
        i = 0
        while i < len(code):
            b0 = code[i]
            if b0 >= 32 or b0 == 28:
                if b0 == 28:
                    stack.append(struct.unpack_from(">h", code, i + 1)[0])
                    i += 3
                elif b0 <= 246:
                    stack.append(b0 - 139)
                    i += 1
                elif b0 <= 250:
                    stack.append((b0 - 247) * 256 + code[i + 1] + 108)
                    i += 2
                elif b0 <= 254:
                    stack.append(-(b0 - 251) * 256 - code[i + 1] - 108)
                    i += 2
                else:
                    stack.append(struct.unpack_from(">i", code, i + 1)[0] >> 16)
                    i += 5
                continue
            i += 1
            if b0 in (1, 3, 18, 23):  # hstem, vstem, hstemhm, vstemhm
                self.stems += len(stack) // 2
                stack = []
            elif b0 in (19, 20):  # hintmask, cntrmask: implicit vstems, then the mask bytes
                self.stems += len(stack) // 2
                stack = []
                i += (self.stems + 7) // 8
            elif b0 in (10, 29):  # callsubr, callgsubr
                if not stack:
                    return True
                number = stack.pop()
                subrs = local if b0 == 10 else self.gsubrs
                index = number + _bias(len(subrs))
                if 0 <= index < len(subrs):
                    (used_local if b0 == 10 else self.used_global).add(index)
                    if not self._run(subrs[index], local, used_local, depth + 1):
                        return False
            elif b0 == 11:  # return
                return True
            elif b0 == 14:  # endchar
                return False
            elif b0 == 12:
                i += 1
                stack = []
            else:
                stack = []
        return True


class Cff:
    def __init__(self, data: bytes) -> None:
        self.data = data
        header = data[2]
        self.names, pos = _index(data, header)
        tops, pos = _index(data, pos)
        self.strings, pos = _index(data, pos)
        self.gsubrs, _ = _index(data, pos)
        self.top = _dict(tops[0])
        if _get(self.top, (12, 30)) is None:
            raise ValueError("not a CID-keyed CFF font")
        self.charstrings, _ = _index(data, int((_get(self.top, CHARSTRINGS) or [0])[0]))
        n = len(self.charstrings)
        fd_dicts, _ = _index(data, int((_get(self.top, FDARRAY) or [0])[0]))
        self.fds = [_dict(fd) for fd in fd_dicts]
        self.privates: list[list[_Entry]] = []
        self.local_subrs: list[list[bytes]] = []
        for fd in self.fds:
            size, offset = (int(v) for v in (_get(fd, PRIVATE) or [0, 0]))
            private = _dict(data[offset : offset + size])
            self.privates.append(private)
            subrs = _get(private, SUBRS)
            self.local_subrs.append(_index(data, offset + int(subrs[0]))[0] if subrs else [])
        self.fd_of = self._fdselect(int((_get(self.top, FDSELECT) or [0])[0]), n)
        self.charset = self._charset_bytes(int((_get(self.top, CHARSET) or [0])[0]), n)
        self.fdselect = self._fdselect_bytes(int((_get(self.top, FDSELECT) or [0])[0]), n)

    def _fdselect(self, pos: int, n: int) -> list[int]:
        fmt = self.data[pos]
        if fmt == 0:
            return list(self.data[pos + 1 : pos + 1 + n])
        (ranges,) = struct.unpack_from(">H", self.data, pos + 1)
        out = [0] * n
        for r in range(ranges):
            first, fd = struct.unpack_from(">HB", self.data, pos + 3 + 3 * r)
            nxt = struct.unpack_from(">H", self.data, pos + 3 + 3 * (r + 1))[0]
            for gid in range(first, min(nxt, n)):
                out[gid] = fd
        return out

    def _fdselect_bytes(self, pos: int, n: int) -> bytes:
        if self.data[pos] == 0:
            return self.data[pos : pos + 1 + n]
        (ranges,) = struct.unpack_from(">H", self.data, pos + 1)
        return self.data[pos : pos + 3 + 3 * ranges + 2]

    def _charset_bytes(self, pos: int, n: int) -> bytes:
        fmt = self.data[pos]
        if fmt == 0:
            return self.data[pos : pos + 1 + 2 * (n - 1)]
        size = 3 if fmt == 1 else 4
        covered, i = 1, pos + 1
        while covered < n:
            left = self.data[i + 2] if fmt == 1 else struct.unpack_from(">H", self.data, i + 2)[0]
            covered += left + 1
            i += size
        return self.data[pos:i]

    def subset(self, gids: Iterable[int]) -> bytes:
        keep = {0, *(g for g in gids if 0 <= g < len(self.charstrings))}
        scanner = _Scanner(self.gsubrs)
        used_local: list[set[int]] = [set() for _ in self.fds]
        for gid in sorted(keep):
            fd = self.fd_of[gid]
            scanner.scan(self.charstrings[gid], self.local_subrs[fd], used_local[fd])
        charstrings = write_index(
            [cs if gid in keep else ENDCHAR for gid, cs in enumerate(self.charstrings)]
        )
        gsubrs = write_index(
            [s if i in scanner.used_global else RETURN for i, s in enumerate(self.gsubrs)]
        )
        locals_ = [
            write_index([s if i in used else RETURN for i, s in enumerate(subrs)])
            for subrs, used in zip(self.local_subrs, used_local, strict=True)
        ]
        # Private dicts, each followed by its subroutines (Subrs is relative to the dict).
        private_sizes = [
            len(_write_dict(p, {SUBRS: [0]} if _get(p, SUBRS) else {})) for p in self.privates
        ]
        privates = [
            _write_dict(p, {SUBRS: [size]} if _get(p, SUBRS) else {})
            for p, size in zip(self.privates, private_sizes, strict=True)
        ]

        def top_dict(charset: int, fdselect: int, cs: int, fdarray: int) -> bytes:
            return _write_dict(
                self.top,
                {CHARSET: [charset], FDSELECT: [fdselect], CHARSTRINGS: [cs], FDARRAY: [fdarray]},
            )

        header = self.data[: self.data[2]]
        names = write_index(self.names)
        strings = write_index(self.strings)
        top_size = len(write_index([top_dict(0, 0, 0, 0)]))
        at = len(header) + len(names) + top_size + len(strings) + len(gsubrs)
        charset_at = at
        fdselect_at = charset_at + len(self.charset)
        cs_at = fdselect_at + len(self.fdselect)
        fdarray_at = cs_at + len(charstrings)

        has_subrs = [_get(p, SUBRS) is not None for p in self.privates]

        def fd_array(first_private: int) -> bytes:
            out, offset = [], first_private
            for fd, private, local, subrs in zip(self.fds, privates, locals_, has_subrs,
                                                 strict=True):  # fmt: skip
                out.append(_write_dict(fd, {PRIVATE: [len(private), offset]}))
                offset += len(private) + (len(local) if subrs else 0)
            return write_index(out)

        fdarray_size = len(fd_array(0))
        private_at = fdarray_at + fdarray_size
        fdarray = fd_array(private_at)
        body = bytearray()
        body += header + names + write_index([top_dict(charset_at, fdselect_at, cs_at,
                                                       fdarray_at)])  # fmt: skip
        body += strings + gsubrs + self.charset + self.fdselect + charstrings + fdarray
        for private, local, subrs in zip(privates, locals_, has_subrs, strict=True):
            body += private
            if subrs:
                body += local
        return bytes(body)
