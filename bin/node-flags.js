// The Node flags the operator runs with, wherever it is started: the image (the Dockerfile's
// ENTRYPOINT), `npx steward-manager` (bin/steward-manager.js applies them), `make run`
// (hack/run.sh) and the benchmarks (which read the Dockerfile). A unit test keeps them equal.
// 4 MiB semi-spaces: V8 would otherwise grow its young generation to 64 MiB under the operator's
// allocation rate. Memory saver mode: V8 grows the old generation by less past the live data
// (2 MiB steps instead of 8) and compacts it, which takes 15 MiB off the peak RSS of 2,000
// Sessions (docs/operations.md#memory).
export const MANAGER_NODE_FLAGS = ['--max-semi-space-size=4', '--memory-saver-mode'];
