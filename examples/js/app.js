// The interop example app in JavaScript (see examples/interop-wit/app.wit for the commands and
// the exact strings they return; the Python and Rust versions return the same).
//
//     npm ci               # the locked versions (package-lock.json)
//     npx jco componentize app.js --wit ../interop-wit --world-name app -o app.wasm
//     virt-store plug app.wasm -o app.kv.wasm
//     wasmtime run --dir ./data::/data --invoke 'run(["visit", "ada"])' app.kv.wasm
//
// JavaScript has no file API here, so `files` calls wasi:filesystem itself (imported in app.wit).

import { open } from 'wasi:keyvalue/store@0.2.0-draft3';
import { increment, swap, Cas } from 'wasi:keyvalue/atomics@0.2.0-draft3';
import { setMany, getMany } from 'wasi:keyvalue/batch@0.2.0-draft3';
import { getDirectories } from 'wasi:filesystem/preopens@0.2.4';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function run(args) {
  try {
    const bucket = open('');
    const [command, ...rest] = args;
    if (command === 'visit' && rest.length === 1) return visit(bucket, rest[0]);
    if (command === 'note' && rest.length >= 1) return note(bucket, rest.join(' '));
    if (command === 'show' && rest.length === 0) return show(bucket);
    if (command === 'files' && rest.length === 1) return files(rest[0]);
    throw 'usage: visit NAME | note TEXT | show | files DIR';
  } catch (e) {
    // A store error arrives as a thrown value whose payload is the WIT `error` variant; the
    // export's `err` must be a plain string.
    throw describe(e);
  }
}

function visit(bucket, name) {
  const visits = increment(bucket, 'visits', 1n);
  // Compare-and-swap: set `last` only if no other instance wrote it since we read it.
  let [cas] = Cas.newWithRead(bucket, 'last');
  for (;;) {
    try {
      swap(cas, encoder.encode(name));
      return `visit ${visits} by ${name}`;
    } catch (e) {
      if (e?.payload?.tag !== 'cas-failed') throw e;
      [cas] = e.payload.val;
    }
  }
}

function note(bucket, text) {
  const n = increment(bucket, 'notes:count', 1n);
  setMany(bucket, [[`note:${n}`, encoder.encode(text)]]);
  return `note ${n}`;
}

function show(bucket) {
  const visits = text(bucket.get('visits')) ?? '0';
  const last = text(bucket.get('last')) ?? '';
  const keys = [];
  let cursor;
  do {
    const page = bucket.listKeys(cursor);
    keys.push(...page.keys.filter((k) => k.startsWith('note:')));
    cursor = page.cursor;
  } while (cursor !== undefined);
  keys.sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
  const notes = getMany(bucket, keys).map((entry) => (entry ? decoder.decode(entry[1]) : ''));
  return `visits=${visits} last=${last} notes=${notes.join('|')}`;
}

// What the app can do under `dir` through the preopens it was given: plugged with virt-store, the
// store's own directory is not among them.
function files(dir) {
  const attempt = (action) => {
    try {
      action();
      return 'ok';
    } catch {
      return 'error';
    }
  };
  const at = (name) => {
    const found = resolve(`${dir}/${name}`);
    if (!found) throw 'no preopen holds this path';
    return found;
  };
  const list = attempt(() => {
    const [preopen, path] = at('.');
    const entries = preopen.openAt({}, path, { directory: true }, { read: true }).readDirectory();
    while (entries.readDirectoryEntry() !== undefined);
  });
  const read = attempt(() => {
    const [preopen, path] = at('virt-store-format');
    preopen.openAt({}, path, {}, { read: true }).read(4096n, 0n);
  });
  const write = attempt(() => {
    const [preopen, path] = at('intruder');
    preopen.openAt({}, path, { create: true }, { write: true }).write(encoder.encode('written by the app'), 0n);
  });
  const remove = attempt(() => {
    const [preopen, path] = at('virt-store-format');
    preopen.unlinkFileAt(path);
  });
  return `list=${list} read=${read} write=${write} delete=${remove}`;
}

// The preopen that an absolute `path` falls under and the path relative to it, chosen as
// wasi-libc chooses: the longest preopen name that is a prefix of the path on whole components.
function resolve(path) {
  const wanted = path.split('/').filter((c) => c !== '' && c !== '.');
  let best;
  for (const [descriptor, name] of getDirectories()) {
    const prefix = name.split('/').filter((c) => c !== '' && c !== '.');
    const matches = prefix.every((component, i) => wanted[i] === component);
    if (matches && (best === undefined || prefix.length >= best[2])) best = [descriptor, name, prefix.length];
  }
  if (best === undefined) return undefined;
  return [best[0], wanted.slice(best[2]).join('/') || '.'];
}

function text(bytes) {
  return bytes === undefined ? undefined : decoder.decode(bytes);
}

function describe(e) {
  if (typeof e === 'string') return e;
  const error = e?.payload?.tag === 'store-error' ? e.payload.val : e?.payload;
  if (error?.tag === 'other') return error.val;
  if (error?.tag) return error.tag;
  return String(e);
}
