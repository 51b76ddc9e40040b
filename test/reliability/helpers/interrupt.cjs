/**
 * Preloaded (`node --require`) into a CLI process by the reliability tests: injects a real
 * fault at an exact moment of the write, chosen by TSGRAD_TEST_FAULT:
 *
 *   kill-before-rename     SIGKILL when the first temporary file is about to be renamed
 *                          (every temporary file is written, no target replaced yet)
 *   kill-mid-write         SIGKILL after half of the first temporary file is written
 *   remove-dir:<dir>       remove <dir> (with everything in it) just before the first
 *                          temporary file is created: the output directory vanishes mid-run
 *   plant-symlink:<victim> just before the first temporary file is created, plant a
 *                          symbolic link to <victim> at its exact name, as an attacker who
 *                          guessed the name would
 *
 * It wraps node:fs functions and republishes them to ES modules; the CLI is not changed.
 */
"use strict";
const fs = require("node:fs");
const { syncBuiltinESMExports } = require("node:module");

const fault = process.env.TSGRAD_TEST_FAULT ?? "";
const isTemp = (p) => typeof p === "string" && p.endsWith(".tsgrad-tmp");
const kill = () => process.kill(process.pid, "SIGKILL");

const { openSync, renameSync, writeSync } = fs;
const temps = new Set();

if (fault === "kill-before-rename") {
  fs.renameSync = function (from, to) {
    if (isTemp(from)) kill();
    return renameSync.call(this, from, to);
  };
}

if (fault === "kill-mid-write") {
  fs.openSync = function (path, ...rest) {
    const fd = openSync.call(this, path, ...rest);
    if (isTemp(path)) temps.add(fd);
    return fd;
  };
  fs.writeSync = function (fd, buffer, offset, length, ...rest) {
    if (temps.has(fd) && Buffer.isBuffer(buffer)) {
      writeSync.call(this, fd, buffer, offset ?? 0, Math.floor((length ?? buffer.length) / 2));
      fs.fsyncSync(fd);
      kill();
    }
    return writeSync.call(this, fd, buffer, offset, length, ...rest);
  };
}

if (fault.startsWith("remove-dir:")) {
  const dir = fault.slice("remove-dir:".length);
  let removed = false;
  fs.openSync = function (path, ...rest) {
    if (isTemp(path) && !removed) {
      fs.rmSync(dir, { recursive: true, force: true });
      removed = true;
    }
    return openSync.call(this, path, ...rest);
  };
}

if (fault.startsWith("plant-symlink:")) {
  const victim = fault.slice("plant-symlink:".length);
  let planted = false;
  fs.openSync = function (path, ...rest) {
    if (isTemp(path) && !planted) {
      planted = true;
      try {
        fs.symlinkSync(victim, path);
      } catch {
        // something is there already
      }
    }
    return openSync.call(this, path, ...rest);
  };
}

syncBuiltinESMExports();
