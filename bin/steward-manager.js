#!/usr/bin/env node
// The Steward operator on Node >= 24 (see launch.js). The program itself: dist/cmd/manager.js.
import { launch } from './launch.js';
import { MANAGER_NODE_FLAGS } from './node-flags.js';

await launch('steward-manager', '../dist/cmd/manager.js', MANAGER_NODE_FLAGS);
