import { type Command, InvalidArgumentError, Option } from 'commander';
import { parseDuration } from '../../duration.js';
import type { Ctx, GlobalOptions } from '../context.js';
import type { CliError } from '../errors.js';
import type { KindRegistry } from '../kinds.js';
import { OUTPUT_FORMATS, outputFormat } from '../output.js';

/** What every command is built with. Tests pass a context around a FakeClient. */
export interface Deps {
  kinds: KindRegistry;
  context: (opts: GlobalOptions) => Ctx;
  /** Prints one failure of a bulk command (stderr). */
  report: (err: CliError) => void;
}

/** --kubeconfig and -n, on every command. */
export function withGlobals(cmd: Command): Command {
  return cmd
    .addOption(new Option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG, ~/.kube/config)'))
    .addOption(new Option('-n, --namespace <ns>', 'namespace (default: the context’s, else default)'));
}

/** -o, checked when parsed (a bad value is exit 2, never a silent table). */
export function outputOption(defaultValue = 'table'): Option {
  return new Option('-o, --output <format>', `output format: ${OUTPUT_FORMATS.join(' | ')}`)
    .default(defaultValue)
    .argParser((v: string) => {
      try {
        return outputFormat(v);
      } catch (err) {
        throw new InvalidArgumentError((err as Error).message);
      }
    });
}

export const nonNegative = (v: string): number => {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError('must be a whole number >= 0');
  return Number(v);
};

export const positive = (v: string): number => {
  if (!/^[1-9]\d*$/.test(v)) throw new InvalidArgumentError('must be a whole number >= 1');
  return Number(v);
};

export const duration = (v: string): number => {
  try {
    return parseDuration(v);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
};

/** What a resource argument looks like in help texts. */
export const RESOURCE_HELP = 'NAME (a Session), or KIND/NAME, e.g. sess/NAME, wf/NAME, sched/NAME';
