#!/usr/bin/env node
// stewardctl on Node >= 24 (see launch.js). The CLI itself: dist/cmd/stewardctl.js.
import { launch } from './launch.js';

await launch('stewardctl', '../dist/cmd/stewardctl.js');
