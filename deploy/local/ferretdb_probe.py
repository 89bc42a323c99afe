"""Probe which MongoDB features the server behind MONGODB_URL supports (made for FerretDB v1; run on its PostgreSQL and SQLite backends).

Each case seeds a fresh collection, runs one operation the services might rely on and compares
the result with what MongoDB itself returns. One line per case:
  ok    same answer as MongoDB
  DIFF  the server answered, differently from MongoDB (often silently: the worst kind)
  FAIL  the server refused the operation (error shown)

Run: MONGODB_URL=mongodb://127.0.0.1:27017/ .venv/bin/python deploy/local/ferretdb_probe.py
Exit status: 0 if every case is ok, 1 otherwise (against FerretDB the list is the point).
"""

# ruff: noqa: E501  (the case table keeps one case per line, which reads better than wrapping)
from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from bson import Decimal128, Int64, Regex
from pymongo import (
    DeleteOne,
    InsertOne,
    MongoClient,
    ReplaceOne,
    ReturnDocument,
    UpdateMany,
    UpdateOne,
)
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError, PyMongoError

Coll = Collection[dict[str, Any]]
Operation = Callable[[Coll], object]
NO_ERROR = "no error"

SUBDOCS: list[dict[str, Any]] = [
    {"_id": 1, "arr": [{"id": "a", "v": 1}, {"id": "b", "v": 2}, {"id": "c", "v": 3}]}
]
NUMBERS: list[dict[str, Any]] = [{"_id": 1, "arr": [1, 2, 3]}]
VIDEOS: list[dict[str, Any]] = [
    {"_id": 1, "kind": "video", "tags": ["a", "b"], "views": 5},
    {"_id": 2, "kind": "video", "tags": ["b"], "views": 7},
    {"_id": 3, "kind": "photo", "tags": [], "views": 1},
]
PEOPLE: list[dict[str, Any]] = [{"_id": 1, "email": "a@x"}, {"_id": 2, "email": "b@x"}]
MIXED: list[dict[str, Any]] = [
    {"_id": 1, "a": 1, "b": 2},
    {"_id": 2, "a": 3, "b": 2},
    {"_id": 3, "a": "x"},
]
MOMENT = datetime(2024, 7, 9, 12, 30, 1, 123000, tzinfo=UTC)


def field_after(update: dict[str, Any], field: str = "arr", **options: Any) -> Operation:
    """Applies UPDATE to document 1 and returns FIELD of the result."""

    def run(c: Coll) -> object:
        c.update_one({"_id": 1}, update, **options)
        return (c.find_one({"_id": 1}) or {}).get(field)

    return run


def found(query: dict[str, Any]) -> Operation:
    return lambda c: [d["_id"] for d in c.find(query).sort("_id")]


def agg(pipeline: list[dict[str, Any]]) -> Operation:
    return lambda c: list(c.aggregate(pipeline))


def error_code(*steps: Operation) -> Operation:
    """Runs STEPS in order and returns the code of the first PyMongoError (11000 for duplicates)."""

    def run(c: Coll) -> object:
        try:
            for step in steps:
                step(c)
        except BulkWriteError as error:
            return [e["code"] for e in error.details["writeErrors"]]
        except PyMongoError as error:
            return getattr(error, "code", type(error).__name__)
        return NO_ERROR

    return run


def succeeds(*steps: Operation) -> Operation:
    """Runs STEPS; a refusal surfaces as FAIL with the server's message."""

    def run(c: Coll) -> object:
        for step in steps:
            step(c)
        return NO_ERROR

    return run


def unique_on(field: str, **options: Any) -> Operation:
    return lambda c: c.create_index(field, unique=True, **options)


def upserted_twice(c: Coll) -> object:
    c.update_one({"_id": 1}, {"$setOnInsert": {"created": 1}, "$set": {"seen": 1}}, upsert=True)
    c.update_one({"_id": 1}, {"$setOnInsert": {"created": 2}, "$set": {"seen": 2}}, upsert=True)
    return c.find_one({"_id": 1})


def find_one_and_update_both(c: Coll) -> object:
    before = c.find_one_and_update({"_id": 1}, {"$inc": {"views": 1}})
    after = c.find_one_and_update(
        {"_id": 1}, {"$inc": {"views": 1}}, return_document=ReturnDocument.AFTER
    )
    created = c.find_one_and_update(
        {"_id": 9}, {"$set": {"views": 0}}, upsert=True, return_document=ReturnDocument.AFTER
    )
    return [(before or {}).get("views"), (after or {}).get("views"), created]


def sorted_page(c: Coll) -> object:
    c.create_index([("owner", 1), ("at", -1)])
    c.insert_many([{"_id": i, "owner": i % 2, "at": i} for i in range(10)])
    first = [d["_id"] for d in c.find({"owner": 1}).sort([("owner", 1), ("at", -1)]).limit(3)]
    return first, [d["_id"] for d in c.find({"owner": 0}).sort("at", -1).skip(1).limit(2)]


def bulk_mixed(c: Coll) -> object:
    result = c.bulk_write([
        InsertOne({"_id": 1, "n": 0}), InsertOne({"_id": 2, "n": 0}),
        UpdateOne({"_id": 1}, {"$inc": {"n": 1}}), UpdateMany({}, {"$set": {"m": 1}}),
        ReplaceOne({"_id": 2}, {"r": True}), DeleteOne({"_id": 1}),
        UpdateOne({"_id": 3}, {"$set": {"n": 3}}, upsert=True),
    ])  # fmt: skip
    counts = (result.inserted_count, result.matched_count, result.modified_count,
              result.deleted_count, result.upserted_count)  # fmt: skip
    return counts, list(c.find().sort("_id"))


def round_trip(value: object) -> Operation:
    def run(c: Coll) -> object:
        c.insert_one({"_id": 1, "v": value})
        return (c.find_one({"_id": 1}) or {}).get("v")

    return run


def counts(c: Coll) -> object:
    return c.count_documents({"views": {"$gte": 5}}), c.count_documents({}, skip=1, limit=1)


def in_transaction(c: Coll) -> object:
    with c.database.client.start_session() as session, session.start_transaction():
        c.insert_one({"_id": 1}, session=session)
    return c.count_documents({})


def watch(c: Coll) -> object:
    with c.watch(max_await_time_ms=100) as stream:
        return stream.try_next()


Case = tuple[str, list[dict[str, Any]], Operation, object]
# fmt: off
CASES: list[Case] = [
    ("$push $each", NUMBERS, field_after({"$push": {"arr": {"$each": [4, 5]}}}), [1, 2, 3, 4, 5]),
    ("$push $each + $slice", NUMBERS, field_after({"$push": {"arr": {"$each": [4], "$slice": -2}}}), [3, 4]),
    ("$push $each + $position", NUMBERS, field_after({"$push": {"arr": {"$each": [0], "$position": 0}}}), [0, 1, 2, 3]),
    ("$push $each + $sort", NUMBERS, field_after({"$push": {"arr": {"$each": [0], "$sort": -1}}}), [3, 2, 1, 0]),
    ("$pull subdocs {id: {$in: [..]}}", SUBDOCS, field_after({"$pull": {"arr": {"id": {"$in": ["a", "c"]}}}}), [{"id": "b", "v": 2}]),
    ("$pull subdocs {id: 'a'} (partial match)", SUBDOCS, field_after({"$pull": {"arr": {"id": "a"}}}), SUBDOCS[0]["arr"][1:]),
    ("$pull subdocs exact whole subdocument", SUBDOCS, field_after({"$pull": {"arr": {"id": "a", "v": 1}}}), SUBDOCS[0]["arr"][1:]),
    ("$pull scalar value", NUMBERS, field_after({"$pull": {"arr": 2}}), [1, 3]),
    ("$pull scalar condition {$in}", NUMBERS, field_after({"$pull": {"arr": {"$in": [1, 3]}}}), [2]),
    ("$pullAll scalars", NUMBERS, field_after({"$pullAll": {"arr": [1, 3]}}), [2]),
    ("$pullAll whole subdocuments", SUBDOCS, field_after({"$pullAll": {"arr": [{"id": "a", "v": 1}]}}), SUBDOCS[0]["arr"][1:]),
    ("$pop", NUMBERS, field_after({"$pop": {"arr": 1}}), [1, 2]),
    ("$addToSet single", NUMBERS, field_after({"$addToSet": {"arr": 2}}), [1, 2, 3]),
    ("$addToSet $each", NUMBERS, field_after({"$addToSet": {"arr": {"$each": [3, 4, 4]}}}), [1, 2, 3, 4]),
    ("$inc existing + new field", VIDEOS, field_after({"$inc": {"views": 2}}, "views"), 7),
    ("$setOnInsert with upsert (insert then update)", [], upserted_twice, {"_id": 1, "created": 1, "seen": 2}),
    ("upsert copies equality fields of the filter", [],
     lambda c: (c.update_one({"email": "a@x"}, {"$set": {"n": 1}}, upsert=True),
                c.find_one({"email": "a@x"}, {"_id": 0}))[1], {"email": "a@x", "n": 1}),
    ("$set dotted path creates subdocuments", VIDEOS, field_after({"$set": {"p.q": 1}}, "p"), {"q": 1}),
    ("$set arr.1.v (index path)", SUBDOCS, field_after({"$set": {"arr.1.v": 9}}), [{"id": "a", "v": 1}, {"id": "b", "v": 9}, {"id": "c", "v": 3}]),
    ("$unset / $min / $max / $mul / $rename", VIDEOS,
     lambda c: (c.update_one({"_id": 1}, {"$unset": {"tags": ""}, "$min": {"views": 3}, "$rename": {"kind": "k"}}),
                c.find_one({"_id": 1}))[1], {"_id": 1, "views": 3, "k": "video"}),
    ("$currentDate", VIDEOS, lambda c: isinstance(field_after({"$currentDate": {"at": True}}, "at")(c), datetime), True),
    ("positional $ update (arr.$.v)", SUBDOCS,
     lambda c: (c.update_one({"_id": 1, "arr.id": "b"}, {"$set": {"arr.$.v": 9}}), (c.find_one() or {})["arr"][1])[1], {"id": "b", "v": 9}),
    ("arrayFilters update (arr.$[e].v)", SUBDOCS, field_after({"$set": {"arr.$[e].v": 9}}, array_filters=[{"e.id": "a"}]),
     [{"id": "a", "v": 9}, {"id": "b", "v": 2}, {"id": "c", "v": 3}]),
    ("update with aggregation pipeline", VIDEOS, field_after([{"$set": {"k2": "$kind"}}], "k2"), "video"),  # type: ignore[arg-type]
    ("find_one_and_update BEFORE/AFTER/upsert", VIDEOS, find_one_and_update_both, [5, 7, {"_id": 9, "views": 0}]),
    ('query "arr.0" {$exists: true}', [*NUMBERS, {"_id": 2, "arr": []}, {"_id": 3}], found({"arr.0": {"$exists": True}}), [1]),
    ('query "arr.0" {$exists: false}', [*NUMBERS, {"_id": 2, "arr": []}, {"_id": 3}], found({"arr.0": {"$exists": False}}), [2, 3]),
    ("query {$size: 0}", VIDEOS, found({"tags": {"$size": 0}}), [3]),
    ("query $elemMatch subdocument fields", SUBDOCS, found({"arr": {"$elemMatch": {"id": "b", "v": 2}}}), [1]),
    ("query $elemMatch subdocument operator", SUBDOCS, found({"arr": {"$elemMatch": {"v": {"$gte": 3}}}}), [1]),
    ("query $elemMatch scalar range (no element matches)", NUMBERS, found({"arr": {"$elemMatch": {"$gt": 1, "$lt": 2}}}), []),
    ("query whole-subdocument equality in array", SUBDOCS, found({"arr": {"id": "a", "v": 1}}), [1]),
    ("query dotted into array (arr.id)", SUBDOCS, found({"arr.id": {"$in": ["b", "z"]}}), [1]),
    ("query $regex $options i on string", VIDEOS, found({"kind": {"$regex": "^VID", "$options": "i"}}), [1, 2]),
    ("query $regex $options i on array of strings", VIDEOS, found({"tags": {"$regex": "^A", "$options": "i"}}), [1]),
    ("query bson.Regex inside $in", VIDEOS, found({"kind": {"$in": [Regex("^PHO", "i")]}}), [3]),
    ("query $in on array field", VIDEOS, found({"tags": {"$in": ["a", "z"]}}), [1]),
    ("query $all / $nin on array field", VIDEOS, found({"tags": {"$all": ["b"], "$nin": ["a"]}}), [2]),
    ("query $or / $and / $nor / $ne / $not / $type", MIXED, found({"$or": [{"a": {"$type": "string"}}, {"a": {"$not": {"$gt": 2}}}], "b": {"$ne": 5}}), [1, 3]),
    ("query $expr", MIXED, found({"$expr": {"$gt": ["$a", "$b"]}}), [2]),
    ("query null matches missing field", MIXED, found({"b": None}), [3]),
    ("sort + limit (+skip) on a compound index", [], sorted_page, ([9, 7, 5], [6, 4])),
    ("unique index: insert duplicate -> 11000", PEOPLE, error_code(unique_on("email"), lambda c: c.insert_one({"email": "a@x"})), 11000),
    ("unique index: update_one makes duplicate -> 11000", PEOPLE,
     error_code(unique_on("email"), lambda c: c.update_one({"_id": 2}, {"$set": {"email": "a@x"}})), 11000),
    ("unique index: upsert insert duplicate -> 11000", PEOPLE,
     error_code(unique_on("email"), lambda c: c.update_one({"_id": 3}, {"$set": {"email": "a@x"}}, upsert=True)), 11000),
    ("unique index: find_one_and_update duplicate -> 11000", PEOPLE,
     error_code(unique_on("email"), lambda c: c.find_one_and_update({"_id": 2}, {"$set": {"email": "a@x"}})), 11000),
    ("unique index: two documents missing the field -> 11000", [{"_id": 1}],
     error_code(unique_on("email"), lambda c: c.insert_one({"_id": 2})), 11000),
    ("unique compound index", PEOPLE, succeeds(lambda c: c.create_index([("email", 1), ("_id", 1)], unique=True)), NO_ERROR),
    ("unique index on dotted field enforced", [{"p": {"e": 1}}],
     error_code(lambda c: c.create_index("p.e", unique=True), lambda c: c.insert_one({"p": {"e": 1}})), 11000),
    ("partial index (partialFilterExpression)", PEOPLE, succeeds(unique_on("email", partialFilterExpression={"email": {"$exists": True}})), NO_ERROR),
    ("sparse index", PEOPLE, succeeds(unique_on("email", sparse=True)), NO_ERROR),
    ("TTL index (expireAfterSeconds)", [], succeeds(lambda c: c.create_index("at", expireAfterSeconds=60)), NO_ERROR),
    ("text index", [], succeeds(lambda c: c.create_index([("t", "text")])), NO_ERROR),
    ("count_documents (filter; skip+limit)", VIDEOS, counts, (2, 1)),
    ("estimated_document_count", VIDEOS, lambda c: c.estimated_document_count(), 3),
    ("distinct on array field", VIDEOS, lambda c: sorted(c.distinct("tags")), ["a", "b"]),
    ("aggregate $match/$group($sum)/$sort/$limit", VIDEOS,
     agg([{"$match": {"views": {"$gt": 0}}}, {"$group": {"_id": "$kind", "v": {"$sum": "$views"}}},
          {"$sort": {"v": -1}}, {"$limit": 1}]), [{"_id": "video", "v": 12}]),
    ("aggregate $group with two accumulators", VIDEOS,
     agg([{"$group": {"_id": "$kind", "v": {"$sum": "$views"}, "n": {"$sum": 1}}}, {"$sort": {"_id": 1}}]),
     [{"_id": "photo", "v": 1, "n": 1}, {"_id": "video", "v": 12, "n": 2}]),
    ("aggregate $unwind keeps the other fields", VIDEOS, agg([{"$unwind": "$tags"}, {"$limit": 1}]), [{**VIDEOS[0], "tags": "a"}]),
    ("aggregate $unwind then $group by unwound field", VIDEOS,
     agg([{"$unwind": "$tags"}, {"$group": {"_id": "$tags", "n": {"$sum": 1}}}, {"$sort": {"_id": 1}}]), [{"_id": "a", "n": 1}, {"_id": "b", "n": 2}]),
    ("aggregate $project inclusion/exclusion", VIDEOS, agg([{"$project": {"kind": 1}}, {"$limit": 1}]), [{"_id": 1, "kind": "video"}]),
    ("aggregate $project field path ('$kind')", VIDEOS, agg([{"$project": {"_id": 0, "k": "$kind"}}, {"$limit": 1}]), [{"k": "video"}]),
    ("aggregate $count", VIDEOS, agg([{"$match": {"kind": "video"}}, {"$count": "n"}]), [{"n": 2}]),
    ("aggregate $skip / $set / $unset stages", VIDEOS, agg([{"$skip": 2}, {"$set": {"y": 1}}, {"$unset": "tags"}]), [{"_id": 3, "kind": "photo", "views": 1, "y": 1}]),
    ("aggregate $group $count accumulator", VIDEOS, agg([{"$group": {"_id": None, "n": {"$count": {}}}}]), [{"_id": None, "n": 3}]),
    *[(f"aggregate $group {op} accumulator", VIDEOS, agg([{"$sort": {"_id": 1}}, {"$group": {"_id": "$kind", "x": {op: "$views"}}}, {"$sort": {"_id": 1}}]),
       [{"_id": "photo", "x": small}, {"_id": "video", "x": big}])
      for op, small, big in [("$push", [1], [5, 7]), ("$addToSet", [1], [5, 7]), ("$first", 1, 5), ("$max", 1, 7), ("$avg", 1.0, 6.0)]],
    *[(f"aggregate {stage} stage", VIDEOS, succeeds(agg([{stage: spec}])), NO_ERROR)
      for stage, spec in [("$lookup", {"from": "x", "localField": "_id", "foreignField": "_id", "as": "y"}),
                          ("$facet", {"n": [{"$count": "n"}]}), ("$sortByCount", "$kind"), ("$replaceRoot", {"newRoot": {"k": 1}})]],
    ("bulk_write ordered insert/update/replace/delete/upsert", [], bulk_mixed, ((2, 4, 4, 1, 1), [{"_id": 2, "r": True}, {"_id": 3, "n": 3}])),
    ("bulk_write unordered duplicate -> [11000], rest kept", [{"_id": 1}],
     error_code(lambda c: c.bulk_write([InsertOne({"_id": 1}), InsertOne({"_id": 2})], ordered=False)), [11000]),
    ("delete_many", VIDEOS, lambda c: (c.delete_many({"kind": "video"}).deleted_count, c.count_documents({})), (2, 1)),
    ("datetime tz-aware round trip (UTC, ms)", [], round_trip(MOMENT), MOMENT),
    ("datetime +02:00 comes back as the same instant in UTC", [], round_trip(MOMENT.astimezone(timezone(timedelta(hours=2)))), MOMENT),
    ("datetime range query", [{"_id": 1, "at": MOMENT}], found({"at": {"$gt": MOMENT - timedelta(seconds=1)}}), [1]),
    ("int64 Int64 keeps its type", [], lambda c: type(round_trip(Int64(5))(c)).__name__, "Int64"),
    ("int64 value above 2**53 exact", [], round_trip(2**62 + 1), 2**62 + 1),
    ("string holding NUL round trip", [], round_trip("a\x00b"), "a\x00b"),
    ("query for a string holding NUL", [{"_id": 1, "s": "x"}], found({"s": "a\x00b"}), []),
    ("nested arrays [[1, 2], [3]]", [], round_trip([[1, 2], [3]]), [[1, 2], [3]]),
    ("array of subdocuments holding arrays", [], round_trip([{"x": [1, 2]}]), [{"x": [1, 2]}]),
    ("transactions (start_transaction)", [], succeeds(in_transaction), NO_ERROR),
    ("change streams (watch)", [], succeeds(watch), NO_ERROR),
    ("collation on find", VIDEOS, succeeds(lambda c: list(c.find({}, collation={"locale": "en", "strength": 2}))), NO_ERROR),
    ("key with a dot ('a.b') in a document", [], succeeds(round_trip({"a.b": 1})), NO_ERROR),
    # Last: FerretDB v1.24.2 panics on Decimal128 and drops the connection.
    ("Decimal128 round trip", [], round_trip(Decimal128("10.25")), Decimal128("10.25")),
]
# fmt: on


def run_case(database: Any, number: int, case: Case) -> str:
    name, seed, operation, expected = case
    collection = database[f"c{number}"]
    try:
        if seed:
            collection.insert_many([dict(d) for d in seed])
        actual = operation(collection)
    except PyMongoError as error:
        return f"FAIL  {name}: {type(error).__name__}: {str(error).split(', full error')[0][:200]}"
    if actual != expected:
        return f"DIFF  {name}: got {actual!r}, MongoDB gives {expected!r}"
    return f"ok    {name}"


def run(url: str) -> int:
    client: MongoClient[dict[str, Any]] = MongoClient(
        url, tz_aware=True, serverSelectionTimeoutMS=5000
    )
    info = client.server_info()
    print(f"server: {url} (reports MongoDB {info.get('version')})")
    database = client[f"probe_{uuid.uuid4().hex[:8]}"]
    lines = []
    try:
        for number, case in enumerate(CASES):
            lines.append(run_case(database, number, case))
            print(lines[-1], flush=True)
    finally:
        client.drop_database(database.name)
        client.close()
    good = sum(line.startswith("ok") for line in lines)
    print(f"{good} ok, {len(lines) - good} not ok (DIFF or FAIL)")
    return 0 if good == len(lines) else 1


if __name__ == "__main__":
    sys.exit(run(os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017/")))
