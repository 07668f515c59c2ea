"""The interop example app in Python (see examples/interop-wit/app.wit for the commands and the
exact strings they return; the JavaScript version returns the same).

    componentize-py -d ../interop-wit -w app componentize app -o app.wasm
    virt-store plug app.wasm -o app.kv.wasm
    wasmtime run --dir ./data::/data --invoke 'run(["visit", "ada"])' app.kv.wasm
"""

import os
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
            if len(args) == 2 and args[0] == "files":
                return files(args[1])
            raise Err("usage: visit NAME | note TEXT | show | files DIR")
        except Err as e:
            # A store error arrives as `Err(error)`; the export's error is a plain string. Any
            # other exception would trap the whole component, so none may escape from here.
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
            # Someone wrote `last` in between: retry with the fresh handle the store hands back.
            cas, _ = e.value.value


def note(bucket: store.Bucket, text: str) -> str:
    n = atomics.increment(bucket, "notes:count", 1)
    batch.set_many(bucket, [(f"note:{n}", text.encode())])
    return f"note {n}"


def show(bucket: store.Bucket) -> str:
    visits = decode(bucket.get("visits"), default="0")
    last = decode(bucket.get("last"))
    keys: List[str] = []
    cursor: Optional[str] = None
    while True:
        page = bucket.list_keys(cursor)
        keys.extend(k for k in page.keys if k.startswith("note:"))
        cursor = page.cursor
        if cursor is None:
            break
    keys.sort(key=note_order)
    notes = [decode(entry[1]) if entry else "" for entry in batch.get_many(bucket, keys)]
    return f"visits={visits} last={last} notes={'|'.join(notes)}"


def files(directory: str) -> str:
    # What the app can do under `directory` through its libc's preopens: plugged with virt-store,
    # the store's own directory is not among them.
    def attempt(action) -> str:
        try:
            action()
            return "ok"
        except Exception:
            return "error"

    def read() -> None:
        with open(f"{directory}/virt-store-format", "rb") as f:
            f.read()

    def write() -> None:
        with open(f"{directory}/intruder", "wb") as f:
            f.write(b"written by the app")

    results = [
        ("list", attempt(lambda: os.listdir(directory))),
        ("read", attempt(read)),
        ("write", attempt(write)),
        ("delete", attempt(lambda: os.remove(f"{directory}/virt-store-format"))),
    ]
    return " ".join(f"{what}={result}" for what, result in results)


def note_order(key: str) -> tuple:
    # `note:10` comes after `note:9`; a `note:` key another app wrote without a number (the store
    # is shared) sorts last instead of failing `int()`. (`isdigit` alone would accept "²".)
    number = key[len("note:"):]
    if number.isascii() and number.isdigit():
        return (0, int(number), "")
    return (1, 0, key)


def decode(value: Optional[bytes], default: str = "") -> str:
    # Lenient, like JavaScript's TextDecoder and Rust's from_utf8_lossy: another app may have
    # stored bytes that are not UTF-8, and a UnicodeDecodeError would trap.
    return default if value is None else value.decode(errors="replace")


def describe(error: object) -> str:
    match error:
        case str():
            return error
        case store.Error_Other(message):
            return message
        case store.Error_NoSuchStore():
            return "no-such-store"
        case store.Error_AccessDenied():
            return "access-denied"
    return repr(error)
