#!/usr/bin/env node
/** `npm run demo`: a simulated GPU node with the real agent on it, from a clone of the repository. */
import { demoCommand } from './command.js';

process.exitCode = await demoCommand(
  process.argv.slice(2),
  { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) },
  process,
);
