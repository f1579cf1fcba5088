import { parseArgs } from 'node:util';
import { ConfigError } from './config/load.js';
import { scrub } from './core/secrets.js';
import { PROBE_MODULES, type ProbeModule } from './probe/types.js';
import { loadConfig, loadStartupConfig, type StartupConfig } from './startup-config.js';
import { VERSION } from './core/version.js';
import { EXIT, type Io } from './io.js';
import { readHostInventory } from './collectors/host/inventory.js';
import { doctor, evaluate, once, probe } from './commands.js';
import { run } from './run.js';

const USAGE = `Usage: inferwatch [command] [options]

Commands:
  run                  Run the agent and serve /metrics (the default).
  once                 Collect once and print the exposition text on stdout.
  doctor               Say which sources were found, which are missing, and why.
  check-config FILE    Validate a config file; print every problem with its path.
  probe                Probe each runtime once (or --target) and print what a user would get.
  eval                 Run the evaluation suites now (or --target, --suite) and compare each
                       with its baseline; --accept makes the last runs the baselines instead.
  host-inventory       Print what the host is (OS, kernel, server, CPU) as JSON: what the
                       agent runs in a child process at start and on reload.

Options:
  --config FILE        YAML config file (default: built-in defaults, auto-detection).
  --listen HOST:PORT   Address of the HTTP server (run only; overrides 'listen').
  --ready-file FILE    Once serving, write the address it listens on to FILE (run only).
  --target NAME|URL    The runtime to probe or evaluate: its target name (probe: or base URL).
  --module MODULE      latency (the default) or canary (probe only).
  --suite NAME         The evaluation suite to run or accept (eval only).
  --accept             Accept the last recorded runs as the baselines (eval only).
  --version            Print the version.
  --help               Print this help.

Exit codes: 0 ok, 1 runtime failure, 2 bad usage or invalid config.
`;

const COMMANDS = new Set([
  'run',
  'once',
  'doctor',
  'check-config',
  'probe',
  'eval',
  'host-inventory',
]);

export async function main(
  argv: readonly string[],
  rawIo: Io,
  signals: NodeJS.EventEmitter = process,
): Promise<number> {
  // Whatever is printed passes the secret scrubber: the last line of defence (see secrets.ts).
  const io: Io = { out: (text) => rawIo.out(scrub(text)), err: (text) => rawIo.err(scrub(text)) };
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        listen: { type: 'string' },
        'ready-file': { type: 'string' },
        target: { type: 'string' },
        module: { type: 'string' },
        suite: { type: 'string' },
        accept: { type: 'boolean' },
        version: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    io.err(`inferwatch: ${(error as Error).message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(USAGE);
    return EXIT.ok;
  }
  if (values.version) {
    io.out(`inferwatch ${VERSION}\n`);
    return EXIT.ok;
  }
  const [command = 'run', ...rest] = positionals;
  if (!COMMANDS.has(command)) {
    io.err(`inferwatch: unknown command '${command}'\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (command === 'host-inventory') {
    if (rest.length > 0) {
      io.err(`inferwatch: unexpected argument '${rest[0]}'\n\n${USAGE}`);
      return EXIT.usage;
    }
    io.out(`${JSON.stringify(await readHostInventory())}\n`);
    return EXIT.ok;
  }
  const fileArg = command === 'check-config' ? rest.shift() : values.config;
  if (rest.length > 0 || (command === 'check-config' && !fileArg)) {
    io.err(
      `inferwatch: ${command === 'check-config' ? 'check-config needs one FILE' : `unexpected argument '${rest[0]}'`}\n\n${USAGE}`,
    );
    return EXIT.usage;
  }

  if (values.target !== undefined && command !== 'probe' && command !== 'eval') {
    io.err(`inferwatch: --target is for the probe and eval commands\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (values.module !== undefined && command !== 'probe') {
    io.err(`inferwatch: --module is for the probe command\n\n${USAGE}`);
    return EXIT.usage;
  }
  if ((values.suite !== undefined || values.accept) && command !== 'eval') {
    io.err(`inferwatch: --suite and --accept are for the eval command\n\n${USAGE}`);
    return EXIT.usage;
  }
  const module = values.module ?? 'latency';
  if (!(PROBE_MODULES as readonly string[]).includes(module)) {
    io.err(`inferwatch: --module must be one of ${PROBE_MODULES.join(', ')}\n`);
    return EXIT.usage;
  }

  // run refuses what check-config refuses, and check-config passes only what run starts on:
  // both check everything checkable without starting. The other commands need the schema only.
  const serving = command === 'check-config' || command === 'run';
  let startup: StartupConfig;
  try {
    startup = serving
      ? await loadStartupConfig(fileArg, { listen: values.listen })
      : { config: await loadConfig(fileArg, { listen: values.listen }), security: undefined };
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(`${error.message}\n`);
      return EXIT.usage;
    }
    throw error;
  }
  const { config } = startup;

  switch (command) {
    case 'check-config':
      io.out(`${fileArg}: valid\n`);
      return EXIT.ok;
    case 'run':
      return run(
        startup,
        { file: fileArg, listen: values.listen },
        io,
        signals,
        values['ready-file'],
      );
    case 'once':
      return once(config, io);
    case 'doctor':
      return doctor(config, fileArg, io);
    case 'eval':
      return evaluate(
        config,
        { target: values.target, suite: values.suite, accept: values.accept ?? false },
        io,
      );
    default:
      return probe(config, { target: values.target, module: module as ProbeModule }, io);
  }
}
