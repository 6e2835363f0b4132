/**
 * The kinds stewardctl knows, each registered by its own module (kinds/session.ts, …) with its
 * names, table columns, describe fields and, where the kind has them, a phase to wait on, a
 * cancel patch, logs and a flag-built object. Commands look a resource argument up here, so a
 * new kind needs one module and one line in kinds/index.ts, no change to the commands.
 */
import type { GVK, KubernetesObject } from '../../lib/index.js';
import type { Ctx } from './context.js';
import { UsageError } from './errors.js';

/** One table column after NAME. */
export interface Column<T extends KubernetesObject> {
  header: string;
  value(obj: T, now: number): string;
  /** Shown only with `-o wide`. */
  wide?: boolean;
}

/** Where an object is in its life, for `wait`, `submit --wait` and `list -w`. */
export interface Progress {
  /** The phase as the object's status shows it (undefined before the operator saw it). */
  phase: string | undefined;
  /** Whether the phase is final. */
  terminal: boolean;
  /** Whether the final phase counts as success (exit 0). */
  succeeded: boolean;
  /** One line describing the state, e.g. `Running  attempt=2  PodRunning`. */
  summary: string;
}

export interface LogsOptions {
  /** A specific attempt; default the latest. */
  attempt?: number;
  /** A Workflow's task (required for a Workflow, refused for a Session). */
  task?: string;
  follow: boolean;
}

export interface CliKind<T extends KubernetesObject = KubernetesObject> {
  readonly gvk: GVK;
  /** Lower-case singular, as output prints it: `session/NAME`. */
  readonly singular: string;
  readonly plural: string;
  /** Short names accepted in `kind/NAME` (e.g. `sess`), as the CRD declares them. */
  readonly shortNames: readonly string[];
  /** The CRD's name, for the "not installed" hint. */
  readonly crd: string;
  readonly columns: readonly Column<T>[];
  /** Kind-specific `describe` fields, in order; undefined values are left out. */
  describe(obj: T): Array<[label: string, value: string | number | undefined]>;
  /**
   * Kind-specific tables `describe` prints after the conditions (a header row, then rows), e.g.
   * a Session's attempt history or a Workflow's DAG; `now` for durations of what still runs.
   */
  describeTables?(obj: T, now: number): Array<{ title: string; rows: string[][] }>;
  /** For kinds that finish (Session, Workflow); a Schedule never does. */
  progress?(obj: T): Progress;
  /** The patch that asks the operator to cancel, for kinds that can be cancelled. */
  cancelPatch?: object;
  /** Prints the logs of the object's pods. */
  logs?(ctx: Ctx, obj: T, opts: LogsOptions): Promise<void>;
  /** More `describe` output after the fields (e.g. a Schedule's next times), one line each. */
  describeMore?(obj: T, now: number): string[];
  /** The patch that suspends (true) or resumes (false) the object, for kinds that can be. */
  suspendPatch?(suspend: boolean): object;
  /** Starts a run of the object now (`trigger`); resolves with the run's `kind/name`. */
  trigger?(ctx: Ctx, obj: T, opts: { name?: string }): Promise<string>;
}

/** A resource argument resolved: which kind, which name. */
export interface ResourceRef {
  kind: CliKind;
  name: string;
}

export class KindRegistry {
  readonly #kinds: CliKind[] = [];
  readonly #byName = new Map<string, CliKind>();

  constructor(
    kinds: readonly CliKind[],
    /** The kind of a bare `NAME`. */
    readonly defaultKind: CliKind = kinds[0]!,
  ) {
    for (const k of kinds) this.register(k);
  }

  /** Adds a kind; its names must not collide with another's. */
  register(kind: CliKind): void {
    for (const n of namesOf(kind)) {
      const taken = this.#byName.get(n);
      if (taken !== undefined && taken !== kind)
        throw new Error(`stewardctl kind name ${n} is taken by ${taken.gvk.kind}`);
      this.#byName.set(n, kind);
    }
    this.#kinds.push(kind);
  }

  get kinds(): readonly CliKind[] {
    return this.#kinds;
  }

  /** The kind for a name: singular, plural, short name or Kind, any case; undefined if unknown. */
  lookup(name: string): CliKind | undefined {
    return this.#byName.get(name.toLowerCase());
  }

  /** Like lookup, but an unknown kind is a usage error listing the known ones. */
  kind(name: string): CliKind {
    const kind = this.lookup(name);
    if (kind === undefined)
      throw new UsageError(`unknown kind "${name}" (known: ${this.#kinds.map((k) => k.plural).join(', ')})`);
    return kind;
  }

  /** `NAME` (the default kind), `KIND/NAME` (e.g. `sess/x`, `session/x`, `wf/x`). */
  resolve(arg: string): ResourceRef {
    const slash = arg.indexOf('/');
    if (slash < 0) return { kind: this.defaultKind, name: checkName(arg) };
    return { kind: this.kind(arg.slice(0, slash)), name: checkName(arg.slice(slash + 1)) };
  }

  /**
   * Resource arguments as kubectl takes them: `NAME…`, `KIND/NAME…`, or `KIND NAME…` (the first
   * argument a kind name and more following).
   */
  resolveAll(args: readonly string[]): ResourceRef[] {
    if (args.length === 0) throw new UsageError('name a resource: NAME or KIND/NAME');
    const first = args[0]!;
    if (args.length > 1 && !first.includes('/')) {
      const kind = this.lookup(first);
      if (kind !== undefined) return args.slice(1).map((a) => ({ kind, name: checkName(a) }));
    }
    return args.map((a) => this.resolve(a));
  }
}

/** Every name a kind answers to, lower-case. */
export function namesOf(kind: CliKind): string[] {
  return [kind.singular, kind.plural, ...kind.shortNames, kind.gvk.kind].map((n) => n.toLowerCase());
}

function checkName(name: string): string {
  // A DNS subdomain, which is what the API server accepts for these kinds' names.
  if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(name))
    throw new UsageError(`"${name}" is not a valid object name (lower-case letters, digits, "-" and ".")`);
  return name;
}
