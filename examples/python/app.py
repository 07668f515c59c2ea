"""The interop example app in Python (see examples/interop-wit/app.wit for the commands and the
exact strings they return; the JavaScript version returns the same).

    componentize-py -d ../interop-wit -w app componentize app -o app.wasm
    virt-store plug app.wasm -o app.kv.wasm
    wasmtime run --dir ./data::/data --invoke 'run(["visit", "ada"])' app.kv.wasm
"""

from typing import List, Optional

import wit_world
from componentize_py_types import Err
from wit_world.imports import atomics, batch, store


class WitWorld(wit_world.WitWorld):
    def run(self, args: List[str]) -> str:
        try:
            bucket = store.open("")
            if len(args) == 2 and args[0] == "visit":
                return visit(bucket, args[1])
            if len(args) >= 2 and args[0] == "note":
                return note(bucket, " ".join(args[1:]))
            if args == ["show"]:
                return show(bucket)
            raise Err("usage: visit NAME | note TEXT | show")
        except Err as e:
            # A store error arrives as `Err(error)`; the export's error is a plain string.
            raise Err(describe(e.value))


def visit(bucket: store.Bucket, name: str) -> str:
    visits = atomics.increment(bucket, "visits", 1)
    # Compare-and-swap: set `last` only if no other instance wrote it since we read it.
    cas, _ = atomics.Cas.new_with_read(bucket, "last")
    while True:
        try:
            atomics.swap(cas, name.encode())
            return f"visit {visits} by {name}"
        except Err as e:
            if not isinstance(e.value, atomics.CasError_CasFailed):
                raise Err(e.value.value)
            cas, _ = e.value.value


def note(bucket: store.Bucket, text: str) -> str:
    n = atomics.increment(bucket, "notes:count", 1)
    batch.set_many(bucket, [(f"note:{n}", text.encode())])
    return f"note {n}"


def show(bucket: store.Bucket) -> str:
    visits = text(bucket.get("visits")) or "0"
    last = text(bucket.get("last")) or ""
    keys: List[str] = []
    cursor: Optional[str] = None
    while True:
        page = bucket.list_keys(cursor)
        keys.extend(k for k in page.keys if k.startswith("note:"))
        cursor = page.cursor
        if cursor is None:
            break
    keys.sort(key=lambda k: int(k[len("note:"):]))
    notes = [entry[1].decode() if entry else "" for entry in batch.get_many(bucket, keys)]
    return f"visits={visits} last={last} notes={'|'.join(notes)}"


def text(value: Optional[bytes]) -> Optional[str]:
    return None if value is None else value.decode()


def describe(error: object) -> str:
    if isinstance(error, str):
        return error
    if isinstance(error, store.Error_Other):
        return error.value
    return type(error).__name__
