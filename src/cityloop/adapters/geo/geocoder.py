"""Forward and reverse geocoding over the standard address register (``Geocoder`` port).

Reference: ``standards.md`` §4.2–4.3. The index is built from the database — the regions'
names (district, street, community, with the short forms people write: 和平里 for 和平里街道),
the roads, doors, buildings, areas and POIs of ``addresses`` with their aliases — and rebuilt
when the ``addresses`` or ``regions`` revision changes.

**Forward.** The text is normalised (:func:`~cityloop.domain.address.normalize_text`), a
leading province or city name dropped, and the house numbers read from its tail
(:func:`~cityloop.domain.address.house_numbers`). The place part before them is cut by jieba
with a dictionary made only of the city's own names, so every name the register knows comes
out as one token: regions name the area, roads and POIs the place. When no road or POI is
found exactly — a typo, a missing character — the place text without its region names is
matched against every road, POI, area and alias with rapidfuzz (``WRatio``) on the few hundred
names sharing a character pair with it. Each road candidate then looks for the door number
(else the nearest door number on that road, same side first), and the building in that door.
A candidate's score (0–100) is its name similarity, less penalties for what was asked and not
found, plus a little for each region level that agrees and a lot less for each that does
not. Levels that are missing cost nothing: "和平里东街11号院3号楼" alone finds the building.

**Reverse.** The nearest door, building or POI within a distance (an STRtree over the points in
a local metric projection), its full text and the 方位描述 of the point relative to it.
"""

from __future__ import annotations

import io
import math
import re
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from numpy.typing import NDArray
from rapidfuzz import fuzz, process
from sqlalchemy import Engine, select

from cityloop.adapters.db.models import T
from cityloop.adapters.db.repositories.base_data import address_from_row, read_revision
from cityloop.domain.address import (
    LEVEL_RANK,
    AddressKind,
    GeocodeCandidate,
    MatchLevel,
    ReverseMatch,
    StandardAddress,
    bearing,
    building_text,
    door_number,
    door_text,
    fold_sounds,
    house_numbers,
    normalize_text,
    region_aliases,
    relative_description,
)
from cityloop.domain.regions import RegionLevel

if TYPE_CHECKING:
    import jieba

regions = T["regions"]
addresses = T["addresses"]

FUZZY_CUTOFF = 65.0
FUZZY_POOL = 300
WORD_FREQ = 1_000_000
METRES_PER_DEGREE_LAT = 110_574.0
METRES_PER_DEGREE_LON_EQUATOR = 111_320.0

_PREFIX = re.compile(
    r"^(?:中华人民共和国|中国)?"
    r"(?:(?:北京|天津|上海|重庆)市?|[\u4e00-\u9fa5]{2,7}(?:省|自治区))?"
    r"(?:[\u4e00-\u9fa5]{2,4}市(?=[\u4e00-\u9fa5]{1,6}[区县旗]))?"
    r"(?:市辖区)?"
)
_FILLERS = re.compile(
    r"(?:附近|门口|门前|对面|旁边|周边|东侧|西侧|南侧|北侧|东边|西边|南边|北边|路口|交叉口|一带)+$"
)

_ADMIN = {
    RegionLevel.DISTRICT: MatchLevel.DISTRICT,
    RegionLevel.STREET: MatchLevel.STREET,
    RegionLevel.COMMUNITY: MatchLevel.COMMUNITY,
}


@dataclass(frozen=True, slots=True)
class _Region:
    level: RegionLevel
    code: str
    name: str
    point: tuple[float, float] | None


@dataclass
class _Road:
    name: str
    entries: list[int] = field(default_factory=list)  # road addresses
    doors: dict[str, list[int]] = field(default_factory=dict)  # door → door addresses
    numbers: list[tuple[int, str]] = field(default_factory=list)  # (number, door), sorted

    def point(self, index: _Index) -> tuple[float, float] | None:
        for i in self.entries or [ids[0] for ids in self.doors.values()]:
            a = index.items[i]
            return a.lon, a.lat
        return None


@dataclass
class _Index:
    items: list[StandardAddress]
    regions: dict[str, _Region]
    names: dict[str, list[tuple[str, Any]]]  # token → (what, key): region code, road, item
    full_admin_names: set[str]
    roads: dict[str, _Road]
    buildings: dict[tuple[str, str], dict[str, int]]
    choices: list[str]  # names for fuzzy matching
    folded: list[str]  # the same, sound-folded
    targets: list[tuple[str, Any]]  # what each choice names
    postings: dict[str, NDArray[np.int64]]
    tokenizer: jieba.Tokenizer
    tree: shapely.STRtree | None
    tree_items: NDArray[np.int64]
    origin: tuple[float, float]
    scale: tuple[float, float]
    revision: tuple[int, int]


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)} if len(text) > 1 else {text}


def _tokenizer(words: Iterable[str]) -> jieba.Tokenizer:
    """A jieba tokenizer whose dictionary is only our names (no 30 MB general dictionary to
    load, and no general word can split a name of ours)."""
    import jieba  # imported here: it takes a third of a second, and only the geocoder needs it

    tokenizer = jieba.Tokenizer()
    lines = "\n".join(f"{w} {WORD_FREQ}" for w in sorted(set(words)) if w and " " not in w)
    tokenizer.FREQ, tokenizer.total = tokenizer.gen_pfdict(io.BytesIO(lines.encode("utf-8")))
    tokenizer.total = max(tokenizer.total, 1)
    tokenizer.initialized = True
    return tokenizer


class AddressMatcher:
    """The geocoder of one database; safe to share between threads."""

    def __init__(self, engine: Engine, *, check_every: float = 2.0) -> None:
        self.engine = engine
        self.check_every = check_every
        self._lock = threading.Lock()
        self._index: _Index | None = None
        self._checked = 0.0

    def invalidate(self) -> None:
        with self._lock:
            self._index = None

    # -- building the index ---
    def _revision(self) -> tuple[int, int]:
        with self.engine.connect() as conn:
            return read_revision(conn, "addresses"), read_revision(conn, "regions")

    def index(self) -> _Index:
        found = self._index
        if found is not None and time.monotonic() - self._checked > self.check_every:
            self._checked = time.monotonic()
            if self._revision() != found.revision:
                found = None
        if found is None:
            with self._lock:
                found = self._index
                if found is None:
                    found = self._index = self._build()
                    self._checked = time.monotonic()
        return found

    def _build(self) -> _Index:
        with self.engine.connect() as conn:
            revision = (read_revision(conn, "addresses"), read_revision(conn, "regions"))
            region_rows = conn.execute(
                select(
                    regions.c.level,
                    regions.c.code,
                    regions.c.name,
                    regions.c.centroid_lon,
                    regions.c.centroid_lat,
                )
                .where(regions.c.level != RegionLevel.GRID.value, regions.c.valid_to.is_(None))
                .order_by(regions.c.code)
            ).all()
            items = [
                address_from_row(r)
                for r in conn.execute(
                    select(addresses)
                    .where(addresses.c.valid_to.is_(None))
                    .order_by(addresses.c.code)
                )
            ]
        names: dict[str, list[tuple[str, Any]]] = defaultdict(list)
        region_map: dict[str, _Region] = {}
        full_admin: set[str] = set()
        sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
        for a in items:
            for code in (a.district_code, a.street_code, a.community_code):
                if code:
                    s = sums[code]
                    s[0], s[1], s[2] = s[0] + a.lon, s[1] + a.lat, s[2] + 1
        for r in region_rows:
            level = RegionLevel(r.level)
            point = None
            if r.centroid_lon is not None and r.centroid_lat is not None:
                point = (r.centroid_lon, r.centroid_lat)
            elif r.code in sums:
                lon, lat, n = sums[r.code]
                point = (lon / n, lat / n)
            name = normalize_text(r.name)
            region_map[r.code] = _Region(level, r.code, r.name, point)
            full_admin.add(name)
            for key in (name, *region_aliases(name)):
                names[key].append(("region", r.code))

        roads: dict[str, _Road] = {}
        buildings: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
        choices: list[str] = []
        targets: list[tuple[str, Any]] = []
        for i, a in enumerate(items):
            if a.kind in (AddressKind.ROAD, AddressKind.DOOR, AddressKind.BUILDING):
                road = roads.setdefault(a.road, _Road(a.road))
                if a.kind is AddressKind.ROAD:
                    road.entries.append(i)
                    for alias in a.aliases:
                        names[normalize_text(alias)].append(("road", a.road))
                        choices.append(normalize_text(alias))
                        targets.append(("road", a.road))
                elif a.kind is AddressKind.DOOR:
                    road.doors.setdefault(a.door, []).append(i)
                else:
                    buildings[(a.road, a.door)].setdefault(a.building, i)
            else:
                for key in (a.name, *a.aliases):
                    key = normalize_text(key)
                    if key:
                        names[key].append(("item", i))
                        choices.append(key)
                        targets.append(("item", i))
        for road in roads.values():
            key = normalize_text(road.name)
            names[key].append(("road", road.name))
            choices.append(key)
            targets.append(("road", road.name))
            numbered = [(door_number(d), d) for d in road.doors]
            road.numbers = sorted((n, d) for n, d in numbered if n is not None)
        postings_lists: dict[str, list[int]] = defaultdict(list)
        for j, choice in enumerate(choices):
            for gram in _bigrams(choice) | _bigrams(fold_sounds(choice)):
                postings_lists[gram].append(j)
        postings = {g: np.asarray(v, dtype=np.int64) for g, v in postings_lists.items()}

        point_items = np.asarray(
            [i for i, a in enumerate(items) if a.kind not in (AddressKind.ROAD, AddressKind.AREA)],
            dtype=np.int64,
        )
        if len(point_items):
            lons = np.array([items[i].lon for i in point_items])
            lats = np.array([items[i].lat for i in point_items])
            origin = (float(lons.mean()), float(lats.mean()))
        else:
            lons = lats = np.zeros(0)
            origin = (0.0, 0.0)
        scale = (
            METRES_PER_DEGREE_LON_EQUATOR * math.cos(math.radians(origin[1])),
            METRES_PER_DEGREE_LAT,
        )
        tree = None
        if len(point_items):
            xs = (lons - origin[0]) * scale[0]
            ys = (lats - origin[1]) * scale[1]
            tree = shapely.STRtree(shapely.points(xs, ys))
        return _Index(
            items=items,
            regions=region_map,
            names=dict(names),
            full_admin_names=full_admin,
            roads=roads,
            buildings=dict(buildings),
            choices=choices,
            folded=[fold_sounds(c) for c in choices],
            targets=targets,
            postings=postings,
            tokenizer=_tokenizer(names.keys()),
            tree=tree,
            tree_items=point_items,
            origin=origin,
            scale=scale,
            revision=revision,
        )

    # -- text of an address ---
    def full_text(self, index: _Index, a: StandardAddress) -> str:
        parts = [
            index.regions[c].name
            for c in (a.district_code, a.street_code)
            if c and c in index.regions
        ]
        return "".join(parts) + a.label

    # -- forward ---
    def forward(
        self, text: str, *, limit: int = 5, district_code: str | None = None
    ) -> list[GeocodeCandidate]:
        index = self.index()
        norm = _PREFIX.sub("", normalize_text(text)[:200])
        numbers = house_numbers(norm)
        place = norm[: numbers.start] if numbers.start >= 0 else norm
        place = _FILLERS.sub("", place)
        tokens = index.tokenizer.lcut(place, HMM=False) if place else []
        admin: dict[RegionLevel, set[str]] = defaultdict(set)
        named: dict[tuple[str, Any], float] = {}
        full_admin_text = ""
        unknown = []
        for token in tokens:
            entries = index.names.get(token)
            if not entries:
                unknown.append(token)
                continue
            for what, key in entries:
                if what == "region":
                    admin[index.regions[key].level].add(key)
                else:
                    named[(what, key)] = 100.0
            if token in index.full_admin_names:
                full_admin_text += token
        if not named:
            query = place
            for token in tokens:
                if token in index.full_admin_names:
                    query = query.replace(token, "", 1)
            query = _FILLERS.sub("", query)
            if query and query not in index.names:
                for target, score in self._fuzzy(index, query):
                    named[target] = max(named.get(target, 0.0), score)
        candidates: dict[tuple[str, Any], GeocodeCandidate] = {}

        def keep(key: tuple[str, Any], cand: GeocodeCandidate, cap: float = 100.0) -> None:
            if district_code and cand.district_code != district_code:
                return
            cand = _adjust(cand, admin, index)
            if cand.score > cap:  # only an exact name scores 100, whatever agrees around it
                cand = replace(cand, score=cap)
            old = candidates.get(key)
            if old is None or cand.score > old.score:
                candidates[key] = cand

        for (what, key), similarity in named.items():
            if what == "road":
                for key2, cand in self._road_candidates(
                    index, index.roads[key], numbers, similarity
                ):
                    keep(key2, cand, 100.0 if similarity >= 100 else 99.0)
            else:
                a = index.items[key]
                level = MatchLevel.POI if a.kind is AddressKind.POI else MatchLevel.AREA
                keep(
                    ("item", key),
                    self._candidate(index, a, level, similarity),
                    100.0 if similarity >= 100 else 99.0,
                )
        if not candidates:
            rest = "".join(unknown)
            for region_level in (RegionLevel.COMMUNITY, RegionLevel.STREET, RegionLevel.DISTRICT):
                for code in sorted(admin.get(region_level, ())):
                    region = index.regions[code]
                    if region.point is None:
                        continue
                    score = 100.0 if not rest and numbers.empty else 60.0
                    keep(
                        ("region", code),
                        GeocodeCandidate(
                            level=_ADMIN[region_level],
                            score=score,
                            lon=region.point[0],
                            lat=region.point[1],
                            text=self._region_text(index, code),
                            region_code=code,
                            district_code=code[:6],
                            street_code=code[:9] if len(code) >= 9 else None,
                            community_code=code if len(code) == 12 else None,
                            approximate=True,
                            note="centre of the region",
                        ),
                    )
                if candidates:
                    break
        ranked = sorted(
            candidates.values(),
            key=lambda c: (
                -c.score,
                LEVEL_RANK[c.level],
                c.address.code if c.address else c.region_code or "",
            ),
        )
        return ranked[: max(1, limit)]

    def _region_text(self, index: _Index, code: str) -> str:
        return "".join(
            index.regions[c].name
            for c in (code[:6], code[:9], code[:12])
            if len(c) <= len(code) and c in index.regions
        )

    def _fuzzy(self, index: _Index, query: str) -> list[tuple[tuple[str, Any], float]]:
        """Names like ``query``: its character pairs (as written and sound-folded) pick a pool
        of names, scored by ``WRatio`` on the text as written and, less 2, as folded (a
        homophone slip then beats a different name that is one character away too)."""
        folded = fold_sounds(query)
        grams = [
            index.postings[g] for g in _bigrams(query) | _bigrams(folded) if g in index.postings
        ]
        if not grams:
            return []  # no name shares a pair of characters with it: none scores ≥ the cutoff
        counts = np.bincount(np.concatenate(grams), minlength=len(index.choices))
        pool = np.flatnonzero(counts)
        if len(pool) > FUZZY_POOL:
            pool = pool[np.argsort(-counts[pool], kind="stable")[:FUZZY_POOL]]
        chosen = pool.tolist()
        plain = process.cdist([query], [index.choices[j] for j in chosen], scorer=fuzz.WRatio)[0]
        sound = process.cdist([folded], [index.folded[j] for j in chosen], scorer=fuzz.WRatio)[0]
        scores = np.maximum(plain, sound - 2.0)
        best = np.argsort(-scores, kind="stable")[:20]
        return [
            (index.targets[chosen[k]], float(scores[k]))
            for k in best.tolist()
            if scores[k] >= FUZZY_CUTOFF
        ]

    def _candidate(
        self,
        index: _Index,
        a: StandardAddress,
        level: MatchLevel,
        score: float,
        *,
        approximate: bool = False,
        note: str = "",
    ) -> GeocodeCandidate:
        return GeocodeCandidate(
            level=level,
            score=round(max(0.0, min(100.0, score)), 1),
            lon=a.lon,
            lat=a.lat,
            text=self.full_text(index, a),
            address=a,
            district_code=a.district_code,
            street_code=a.street_code,
            community_code=a.community_code,
            approximate=approximate,
            note=note,
        )

    def _road_candidates(
        self, index: _Index, road: _Road, numbers: Any, similarity: float
    ) -> list[tuple[tuple[str, Any], GeocodeCandidate]]:
        result: list[tuple[tuple[str, Any], GeocodeCandidate]] = []
        if numbers.door:
            doors = road.doors.get(numbers.door)
            if doors:
                for i in doors:
                    door = index.items[i]
                    if numbers.building:
                        b = index.buildings.get((road.name, door.door), {}).get(numbers.building)
                        if b is not None:
                            a = index.items[b]
                            result.append(
                                (
                                    ("item", b),
                                    self._candidate(index, a, MatchLevel.BUILDING, similarity),
                                )
                            )
                            continue
                        result.append(
                            (
                                ("item", i),
                                self._candidate(
                                    index,
                                    door,
                                    MatchLevel.DOOR,
                                    similarity - 8,
                                    approximate=True,
                                    note=f"no {building_text(numbers.building)} in the register",
                                ),
                            )
                        )
                    else:
                        result.append(
                            (("item", i), self._candidate(index, door, MatchLevel.DOOR, similarity))
                        )
                return result
            wanted = door_number(numbers.door)
            if wanted is not None and road.numbers:
                best = min(
                    road.numbers, key=lambda nd: ((nd[0] - wanted) % 2, abs(nd[0] - wanted), nd[0])
                )
                i = road.doors[best[1]][0]
                door = index.items[i]
                gap = abs(best[0] - wanted)
                return [
                    (
                        ("item", i),
                        self._candidate(
                            index,
                            door,
                            MatchLevel.DOOR,
                            similarity - 10 - min(gap, 10),
                            approximate=True,
                            note=f"nearest door: {road.name}{door_text(door.door, door.compound)}",
                        ),
                    )
                ]
        point = road.point(index)
        if point is None:
            return result
        anchor = index.items[road.entries[0]] if road.entries else None
        penalty = 20 if numbers.door else 0
        if anchor is not None:
            cand = self._candidate(
                index,
                anchor,
                MatchLevel.ROAD,
                similarity - penalty,
                approximate=bool(penalty),
                note="road only" if penalty else "",
            )
        else:
            some = index.items[next(iter(road.doors.values()))[0]]
            cand = GeocodeCandidate(
                level=MatchLevel.ROAD,
                score=round(max(0.0, similarity - penalty - 5), 1),
                lon=point[0],
                lat=point[1],
                text="".join(
                    index.regions[c].name
                    for c in (some.district_code, some.street_code)
                    if c and c in index.regions
                )
                + road.name,
                district_code=some.district_code,
                street_code=some.street_code,
                approximate=True,
                note="a door of the road",
            )
        result.append((("road", road.name), cand))
        return result

    # -- reverse ---
    def reverse(
        self, lon: float, lat: float, *, max_distance_m: float = 500.0
    ) -> ReverseMatch | None:
        index = self.index()
        if index.tree is None:
            return None
        x = (lon - index.origin[0]) * index.scale[0]
        y = (lat - index.origin[1]) * index.scale[1]
        found = index.tree.query_nearest(shapely.Point(x, y), max_distance=max_distance_m)
        if len(found) == 0:
            return None
        item = index.items[int(index.tree_items[int(min(found))])]
        east = (lon - item.lon) * index.scale[0]
        north = (lat - item.lat) * index.scale[1]
        return ReverseMatch(
            address=item,
            text=self.full_text(index, item),
            description=relative_description(item.label, east, north),
            bearing=bearing(east, north),
        )


def _adjust(
    cand: GeocodeCandidate, admin: dict[RegionLevel, set[str]], index: _Index
) -> GeocodeCandidate:
    """+3 for each region level named in the text that the candidate lies in, −15 for each
    it does not (the text may be wrong about a region, so this ranks, never excludes)."""
    delta = 0.0
    for level, codes in admin.items():
        own = {
            RegionLevel.DISTRICT: cand.district_code,
            RegionLevel.STREET: cand.street_code,
            RegionLevel.COMMUNITY: cand.community_code,
        }.get(level)
        if not codes or own is None:
            continue
        delta += 3.0 if own in codes else -15.0
    if delta == 0:
        return cand
    return replace(cand, score=round(max(0.0, min(100.0, cand.score + delta)), 1))
