// Runs a composed component on Node.js through jco, with a host directory as the store:
//
//     npx jco transpile app.kv.wasm -o .transpiled/app --name app
//     node --experimental-wasm-extended-const run-on-node.mjs [--dir HOST::GUEST]... .transpiled/app/app.js ./data ARGS...
//
// or, plugged with the Valkey provider (`virt-store plug --backend valkey`), with `-` for DATA: no
// `/data` preopen, and the store on the server that `VIRT_STORE_URL` names (the shim's
// wasi:sockets connect with Node's own TCP, as `wasmtime run -S inherit-network` does):
//
//     VIRT_STORE_URL=redis://127.0.0.1:6379 node run-on-node.mjs .transpiled/app/app.js - ARGS...
//
// (The flag is for componentize-py's CPython, whose constant expressions Node 20 compiles only
// with it.)
//
// A command (exports wasi:cli/run) runs with ARGS as its arguments; the interop app (exports
// `run: func(list<string>) -> result<string, string>`) is called with ARGS and its answer printed.
// preview2-shim needs two things from a host that `wasmtime run --dir ./data::/data` does itself:
// - preopens: the shim starts with none, so `/data` is mapped here (unless DATA is `-`), and each
//   `--dir` beside it;
// - it refuses the `mutate-directory` descriptor flag with "unsupported", and Rust's std asks for
//   it when it creates a file in a directory opened for writing; the flag only restricts what the
//   descriptor may do, so it is dropped.
import { _setArgs, _setEnv } from '@bytecodealliance/preview2-shim/cli';
import { _setPreopens, types } from '@bytecodealliance/preview2-shim/filesystem';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const options = process.argv.slice(2);
const dirs = {};
while (options[0] === '--dir') {
  const [host, guest] = (options[1] ?? '').split('::');
  if (!host || !guest) {
    console.error(`--dir wants HOST::GUEST, got ${options[1]}`);
    process.exit(2);
  }
  dirs[guest] = resolve(host);
  options.splice(0, 2);
}
const [module, data, ...args] = options;
if (!module || !data) {
  console.error('usage: node run-on-node.mjs [--dir HOST::GUEST]... TRANSPILED.js DATA_DIR|- [ARGS...]');
  process.exit(2);
}
_setPreopens(data === '-' ? dirs : { '/data': resolve(data), ...dirs });
_setArgs([module, ...args]);
// The app sees only the provider's settings from the host's environment, as with `--env`.
_setEnv(Object.fromEntries(Object.entries(process.env).filter(([key]) => key.startsWith('VIRT_STORE_'))));
const openAt = types.Descriptor.prototype.openAt;
types.Descriptor.prototype.openAt = function (pathFlags, path, openFlags, flags) {
  return openAt.call(this, pathFlags, path, openFlags, { ...flags, mutateDirectory: false });
};

const component = await import(pathToFileURL(resolve(module)).href);
if (typeof component.run === 'function') {
  try {
    console.log(component.run(args));
  } catch (e) {
    console.error(`error: ${e?.payload ?? e}`);
    process.exit(1);
  }
} else {
  // wasi:cli/run: the shim's `exit` ends the process with the app's code.
  component.run.run();
}
