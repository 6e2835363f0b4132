// The Node flags the operator runs with, wherever it is started: the image (the Dockerfile's
// ENTRYPOINT), `npx steward-manager` (bin/steward-manager.js applies them), `make run`
// (hack/run.sh) and the benchmarks (which read the Dockerfile). A unit test keeps them equal.
// 4 MiB semi-spaces: V8 would otherwise grow its young generation to 64 MiB under the operator's
// allocation rate (docs/operations.md#memory).
export const MANAGER_NODE_FLAGS = ['--max-semi-space-size=4'];
