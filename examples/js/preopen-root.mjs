// preview2-shim 0.26 starts with no preopens, and jco 1.35's componentize reads the WIT through
// it: give it the host's root, so that `--wit` paths resolve (`node --import ./preopen-root.mjs`).
import { _setPreopens } from '@bytecodealliance/preview2-shim/filesystem';

_setPreopens({ '/': '/' });
