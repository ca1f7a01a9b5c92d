'use strict';
/**
 * Preloaded into a `mae` child process by the resume tests (`node --require kill-at.cjs ...`):
 * the process kills itself with SIGKILL at one file operation named by MAEJS_TEST_KILL_AT, as a
 * `kill -9` landing at that moment would. The operations run for real; the hook only watches
 * them and picks the moment. Points (JSON):
 *
 *   {"rename": "<file name>", "when": "before" | "after"}   the atomic rename onto that file
 *   {"write": "<file name>"}      half of the first write of that file's temp file, then the kill
 *   {"append": "<file name>", "record": {...}, "half": bool}   after appending the JSON line whose
 *                                  fields include `record` (half: only its first half is written)
 */
const fs = require('node:fs');
const { basename } = require('node:path');
const { syncBuiltinESMExports } = require('node:module');

const point = JSON.parse(process.env.MAEJS_TEST_KILL_AT);

function die() {
  process.kill(process.pid, 'SIGKILL');
  throw new Error('kill-at: still running after SIGKILL');
}

if (point.rename) {
  const renameSync = fs.renameSync;
  fs.renameSync = (from, to) => {
    const hit = basename(String(to)) === point.rename;
    if (hit && point.when === 'before') die();
    renameSync(from, to);
    if (hit) die();
  };
} else if (point.write) {
  const { openSync, writeSync } = fs;
  const temps = new Set();
  const tempName = new RegExp(`^\\.${point.write.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.tmp-\\d+$`);
  fs.openSync = (path, ...rest) => {
    const fd = openSync(path, ...rest);
    if (tempName.test(basename(String(path)))) temps.add(fd);
    return fd;
  };
  fs.writeSync = (fd, buffer, offset, length, ...rest) => {
    if (temps.has(fd)) {
      writeSync(fd, buffer, offset, Math.floor(length / 2));
      die();
    }
    return writeSync(fd, buffer, offset, length, ...rest);
  };
} else if (point.append) {
  const appendFileSync = fs.appendFileSync;
  fs.appendFileSync = (path, data, ...rest) => {
    if (basename(String(path)) === point.append && typeof data === 'string') {
      const record = JSON.parse(data);
      if (Object.entries(point.record).every(([key, value]) => record[key] === value)) {
        appendFileSync(path, point.half ? data.slice(0, Math.floor(data.length / 2)) : data, ...rest);
        die();
      }
    }
    return appendFileSync(path, data, ...rest);
  };
} else {
  throw new Error(`kill-at: MAEJS_TEST_KILL_AT is ${process.env.MAEJS_TEST_KILL_AT}: expected {"rename": ...}, {"write": ...} or {"append": ...}`);
}
// The CLI is ES modules: let their named imports from node:fs see the wrapped functions.
syncBuiltinESMExports();
