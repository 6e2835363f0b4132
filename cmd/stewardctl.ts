#!/usr/bin/env node
// stewardctl: submit, watch and manage Sessions and Workflows. Usage: stewardctl --help
// The commands live in cmd/stewardctl/; this is the binary's entry point.
import { main } from './stewardctl/main.js';

const ac = new AbortController();
// The first Ctrl-C ends long-running commands (wait, list -w, logs -f) cleanly; a second one
// leaves at once.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (ac.signal.aborted) process.exit(130);
    ac.abort();
  });
}
void main(process.argv.slice(2), { signal: ac.signal }).then((code) => process.exit(code));
