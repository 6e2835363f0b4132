// The Node flags the operator runs with, wherever it is started: the image (the Dockerfile's
// ENTRYPOINT), `npx steward-manager` (bin/steward-manager.js applies them), `make run`
// (hack/run.sh) and the benchmarks (which read the Dockerfile). A unit test keeps them equal.
// 4 MiB semi-spaces: V8 would otherwise grow its young generation to 64 MiB under the operator's
// allocation rate. A heap growing factor of 1.2: past a full collection V8 lets the old
// generation grow by up to 2–4 times the live data, which put 7–10 MiB more on the peak RSS of
// 2,000 Sessions; memory saver mode takes off 5 MiB more than this but costs 10–15 % more CPU
// per Session (docs/operations.md#memory).
export const MANAGER_NODE_FLAGS = ['--max-semi-space-size=4', '--heap-growing-percent=20'];
