#!/usr/bin/env node
import { main } from './cli.js';

// No top-level await: the release build bundles this file as CommonJS.
void main(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
}).then((code) => {
  process.exitCode = code;
});
