import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import type { KindRegistry } from '../kinds.js';
import { namesOf } from '../kinds.js';
import { OUTPUT_FORMATS } from '../output.js';
import type { Deps } from './shared.js';

export function registerCompletion(prog: Command, deps: Deps): void {
  prog
    .command('completion')
    .argument('<shell>', 'bash or zsh')
    .description(
      'print a shell completion script: source <(stewardctl completion bash), or for zsh put the output of `stewardctl completion zsh` in a file named _stewardctl on $fpath',
    )
    .action((shell: string) => {
      if (shell !== 'bash' && shell !== 'zsh')
        throw new UsageError(`completion: unknown shell "${shell}" (use bash or zsh)`);
      process.stdout.write(completionScript(prog, deps.kinds, shell));
    });
}

/**
 * The completion script, generated from the program itself so it never disagrees with it:
 * commands, each command's flags, -o values, kinds, and object names (from `stewardctl list
 * KIND -o name`, in the namespace given on the line).
 */
export function completionScript(prog: Command, kinds: KindRegistry, shell: 'bash' | 'zsh'): string {
  const commands = prog.commands.flatMap((c) => [c.name(), ...c.aliases()]);
  const flagCases = prog.commands
    .map((c) => {
      const flags = c.options.flatMap((o) => [o.short, o.long].filter((f): f is string => Boolean(f)));
      return `    ${[c.name(), ...c.aliases()].join('|')}) flags="${[...flags, '--help'].join(' ')}" ;;`;
    })
    .join('\n');
  const kindNames = kinds.kinds.flatMap((k) => namesOf(k).filter((n) => n === n.toLowerCase()));
  const uniqueKinds = [...new Set(kindNames)].join(' ');
  const body = `_stewardctl() {
  local cur prev cmd flags ns=() i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  if [[ \${COMP_CWORD} -eq 1 ]]; then
    COMPREPLY=($(compgen -W "${commands.join(' ')} --help --version" -- "$cur"))
    return
  fi
  cmd="\${COMP_WORDS[1]}"
  for ((i = 2; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      -n | --namespace | --kubeconfig) ns+=("\${COMP_WORDS[i]}" "\${COMP_WORDS[i+1]}") ;;
    esac
  done
  case "$prev" in
    -o | --output) COMPREPLY=($(compgen -W "${OUTPUT_FORMATS.join(' ')}" -- "$cur")); return ;;
    -f | --file | --kubeconfig) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    -n | --namespace | -l | --selector | --name | --image | --command | --input | --timeout | --retries | --attempt) return ;;
  esac
  if [[ "$cur" == -* ]]; then
    case "$cmd" in
${flagCases}
    esac
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
    return
  fi
  case "$cmd" in
    list | ls) COMPREPLY=($(compgen -W "${uniqueKinds}" -- "$cur")) ;;
    completion) COMPREPLY=($(compgen -W "bash zsh" -- "$cur")) ;;
    get | describe | wait | logs | cancel | delete)
      local names kind
      if [[ "$cur" == */* ]]; then
        kind="\${cur%%/*}"
        names="$("\${COMP_WORDS[0]}" list "$kind" -o name "\${ns[@]}" 2>/dev/null | sed "s#^[^/]*/#\${kind}/#")"
      else
        names="$("\${COMP_WORDS[0]}" list -o name "\${ns[@]}" 2>/dev/null | sed 's#^[^/]*/##') $(printf '%s/ ' ${uniqueKinds})"
      fi
      COMPREPLY=($(compgen -W "$names" -- "$cur"))
      # "sess/" is a prefix to go on typing after, not a word.
      [[ \${#COMPREPLY[@]} -eq 1 && "\${COMPREPLY[0]}" == */ ]] && compopt -o nospace 2>/dev/null
      ;;
  esac
}
`;
  if (shell === 'bash')
    return `# stewardctl completion for bash. Load it with: source <(stewardctl completion bash)\n${body}complete -F _stewardctl stewardctl\n`;
  return `#compdef stewardctl
# stewardctl completion for zsh: save as _stewardctl in a directory on $fpath, or
# source <(stewardctl completion zsh). It runs the bash completion through zsh's bashcompinit.
autoload -U +X bashcompinit && bashcompinit
${body}complete -F _stewardctl stewardctl
`;
}
