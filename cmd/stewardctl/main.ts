import { Command, CommanderError } from 'commander';
import { type Ctx, type GlobalOptions, loadContext } from './context.js';
import { CliError } from './errors.js';
import { defaultKinds } from './kinds/index.js';
import { registerCancel, registerDelete } from './commands/cancel-delete.js';
import { registerCompletion } from './commands/completion.js';
import { registerDescribe } from './commands/describe.js';
import { registerGet } from './commands/get.js';
import { registerList } from './commands/list.js';
import { registerLogs } from './commands/logs.js';
import type { Deps } from './commands/shared.js';
import { registerSubmit } from './commands/submit.js';
import { registerResume, registerSuspend } from './commands/suspend-resume.js';
import { registerTrigger } from './commands/trigger.js';
import { registerWait } from './commands/wait.js';
import type { KindRegistry } from './kinds.js';
import { packageVersion } from './version.js';

export interface MainOptions {
  kinds?: KindRegistry;
  /** Builds a command's context; default: from the kubeconfig, as kubectl finds it. */
  context?: (opts: GlobalOptions, signal: AbortSignal) => Ctx;
  /** Aborted on Ctrl-C (main wires SIGINT/SIGTERM to it when run as the binary). */
  signal?: AbortSignal;
  stderr?: (s: string) => void;
}

/** The stewardctl program. */
export function program(opts: MainOptions = {}): Command {
  const stderr = opts.stderr ?? ((s: string) => process.stderr.write(s));
  const signal = opts.signal ?? new AbortController().signal;
  const build = opts.context ?? loadContext;
  const deps: Deps = {
    kinds: opts.kinds ?? defaultKinds(),
    context: (o) => build(o, signal),
    report: (err) => stderr(`stewardctl: ${err.message}\n`),
  };
  const prog = new Command('stewardctl')
    .description(
      'Submit and manage Steward Sessions, Workflows and Schedules.\n' +
        'A resource is NAME (a Session) or KIND/NAME (sess/NAME, session/NAME, wf/NAME, workflow/NAME, sched/NAME,\n' +
        'schedule/NAME).\n' +
        'Exit codes: 0 success; 1 a failed Session or Workflow, or an API error; 2 bad usage or input; 130 interrupted.',
    )
    .version(packageVersion(), '-v, --version', 'print the version');
  registerSubmit(prog, deps);
  registerGet(prog, deps);
  registerList(prog, deps);
  registerDescribe(prog, deps);
  registerWait(prog, deps);
  registerLogs(prog, deps);
  registerCancel(prog, deps);
  registerDelete(prog, deps);
  registerTrigger(prog, deps);
  registerSuspend(prog, deps);
  registerResume(prog, deps);
  registerCompletion(prog, deps);
  // Usage errors are one line and exit 2; help and --version exit 0.
  const writeErr = (s: string) => stderr(`stewardctl: ${s.replace(/^error: /, '')}`);
  for (const c of [prog, ...prog.commands]) {
    c.exitOverride();
    c.configureOutput({ writeErr });
    c.showSuggestionAfterError(true);
  }
  return prog;
}

/** Runs the CLI; resolves with the exit code. */
export async function main(argv: string[], opts: MainOptions = {}): Promise<number> {
  const stderr = opts.stderr ?? ((s: string) => process.stderr.write(s));
  const prog = program({ ...opts, stderr });
  if (argv.length === 0) {
    process.stdout.write(prog.helpInformation());
    return 0;
  }
  try {
    await prog.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(err.code)) return 0;
      return 2;
    }
    if (err instanceof CliError) {
      stderr(`stewardctl: ${err.message}\n`);
      return err.exitCode;
    }
    stderr(`stewardctl: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
