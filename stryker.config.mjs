// Mutation testing of the safety-critical modules: `npm run mutate` (see README, Development).
// One file at a time: `npm run mutate -- --mutate src/safety/guards.ts`.
//
// Equivalent mutants left in the count (a `Stryker disable next-line` would also hide killable
// mutants on the same line), each with why no test can kill it:
// - httpPercent (faults/http-fault/index.ts) `p > 0` → `p >= 0`: a 0% share adds 0 either way; `typeof p === 'number'`
//   → true: only reachable with a non-number percent, which the schema refuses before any plan.
// - faults/params.ts intParam/numberParam `typeof v !== 'number'` → false: Number.isSafeInteger /
//   Number.isFinite refuse every non-number anyway.
// - faults/params.ts enumParam `typeof v !== 'string'` → false: a non-string is never in a list of strings.
// - faults/params.ts durationMsParam `typeof v !== 'string'` → false and 'not a duration' → "":
//   parseDuration refuses non-strings, and that message is replaced by the catch below it.
// - reconcile/plan.ts `problemsByFile.size > 0` → true / >= 0: with no broken file the block loops over nothing.
// - reconcile/plan.ts `!problemsByFile.has(r.file)` → false: entries for files without problems are never read.
// - reconcile/plan.ts the sort comparator's `>` branch (→ true/false/>=/<=): V8's sort only tests `< 0`,
//   and `<` → `<=` only reorders two items of the same name (two broken files defining it).
// - egress/policy.ts parseAddress `!ipaddr.isValid(h)` → false: the strict IPv6/four-part check below
//   refuses everything isValid refuses. checkUrl's localhost branch `if (bad)` → true: it returns
//   `bad`, which is undefined exactly when the next line would return undefined. reservedEndpoints'
//   `!raw` → false: new URL('') / new URL(undefined) throws and the catch reserves nothing.
// - experiments/cidr.ts `!addr.includes(':')` → `!addr.includes('')`: IPv6.isValid refuses every
//   text without a colon, with the same message.
// - runs/revert-loop.ts stop(): three guards each stop the loop alone (the flag checked before a
//   pass, the flag checked before rescheduling, the timer cleared), so `stopped = false` at
//   construction, `if (this.stopped) return` → false, `if (!this.stopped)` → true, the flag set in
//   stop() and `if (this.timer) clearTimeout(...)` (→ true/false/removed) each survive one at a time.
//   `intervalMs ?? 1000` → `&&` (in both places) only changes when a pass starts; no test asserts a
//   timing. `.catch(() => null)` on the lock → undefined: both are "not OK". `b.nextAt > Date.now()`
//   → `>=` and `expiresAt + overdueAfter < now` → `<=` differ for one millisecond. backoff.delete
//   after a successful revert: the next pass drops it anyway (the fault is gone from both sources).
//   `!found.has(inj.runId)` → true: the cluster's copy of an injection the ledger also holds was
//   written from the same Injection.
// - runs/heartbeat.ts `everyMs ?? HEARTBEAT_EVERY_MS` → `&&`: only how often it beats (no timed
//   assertions); `timer.unref()` removed: only keeps a finished process alive, not observable in
//   one test process.
// - experiments/semantic.ts: the time-zone and cron memo caches (`ok === undefined`, the size
//   checks, `cronCache.has`, `.set`, `.clear`, the key's `timezone ?? ''`) only save work: the
//   answer is the same computed again; an empty catch leaves `ok` undefined, which callers read as
//   false. labelKeyError `slash >= 0` → true / `> 0`: without a slash `slice(0)` is the key, and a
//   key starting with "/" has the empty prefix, refused first. The zone passed to cron-parser
//   (`timezone && isTimeZone(...)`, `typeof tz === 'string'`) changes when a cron fires, not
//   whether it parses. The probe timeout rule's `!== undefined` checks: `undefined > n` and
//   `n > undefined` are false. `isObj(fault) && typeof fault.type === 'string'` → true: an unknown
//   type has no definition and no checkParams. `cron.trim().startsWith('@')` → untrimmed: cron-parser
//   refuses " @daily" either way.
// - server/repository.ts `repositoryUrls ?? []` → ["Stryker was here"]: that text has no key, so it
//   never equals the (defined) clone key.
// - safety/guards.ts `faultDefinition(type)?.` → `.` (three places): every type that reaches the
//   guards passed the schema's enum, so it has a definition.
// - safety/pdb.ts `Number(value.trim())` → `Number(value)`: Number() ignores surrounding spaces.
// - workflows/semantic.ts checkStep: the early return when a fault step lacks a target or a duration
//   (→ false, `||` → `&&`) only saves work: the experiment checks find nothing in a missing target or
//   duration (the missing-field problems above it are the answer). `q.pointer.startsWith('/spec/')`
//   → true / startsWith(''): an experiment made of a step has no metadata beyond its name, so
//   every problem of it is under /spec. `kind === 'check'` → true and `&&` → `||` before
//   `isObj(step.check)`: a step has exactly one kind here, so only a check step has a `check`.
//   checkAssertions `: []` → ["Stryker was here"]: a string is no probe, so no name is added.
//   The probes pointer regex without `^`: every pointer of semanticProblems starts with /spec.
// - workflows/hash.ts byName: the `a.name > b.name` branch (→ true/false/>=/<=) as in reconcile/plan.ts:
//   V8's sort only tests `< 0`; `<` → `<=` only reorders two items of one name, which the semantic
//   checks refuse (probe, assertion and step names are unique).
// - safety/workflow-plan.ts `'duration' in s && s.duration` -> true / `||`, `kind === 'experiment' ?` -> true,
//   `if (ref)` -> true: they only set `duration` / `experiment` to undefined on steps that have none,
//   which no reader (JSON output, text) tells from absent. `Math.max(seen.ready, b.ready)` -> min:
//   one plan reads one snapshot of the cache, so every row of a workload has the same ready count.
// - workflows/load.ts isWorkflowDocument `typeof v === 'object'` → true: a string or number has no
//   apiVersion, so the answer is false either way. `validate.errors ?? []`: ajv sets errors whenever
//   validate() is false.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutate.config.ts', related: true },
  plugins: ['@stryker-mutator/vitest-runner'],
  // The safety-critical modules. The revert loop and heartbeat tests need Redis: set REDIS_URL.
  mutate: [
    'src/safety/guards.ts',
    'src/safety/pdb.ts',
    'src/faults/params.ts',
    'src/runs/state.ts',
    'src/runs/revert-loop.ts',
    'src/runs/heartbeat.ts',
    'src/experiments/semantic.ts',
    'src/experiments/cidr.ts',
    'src/reconcile/plan.ts',
    'src/hosts/signature.ts',
    'src/hosts/*/signature.ts',
    'src/server/repository.ts',
    'src/egress/policy.ts',
    // ChaosWorkflow decisions: step checks and bounds, reference resolution, what changes the hash.
    'src/workflows/semantic.ts',
    'src/workflows/load.ts',
    'src/workflows/hash.ts',
    'src/safety/workflow-plan.ts', // a workflow's plan: parallel groups' combined blast radius and target caps
    // Fault plugins' safety rules only (their prose is checked against README by
    // test/faults/registry.test.ts): line ranges, to be kept on the rules when a file changes.
    'src/faults/scale-down/index.ts:12-20', // blast radius and budget charge of a scale-down
    'src/faults/http-fault/index.ts:5-8', // traffic share of abort/delay
    'src/faults/http-fault/index.ts:32-43', // needs abort or delay; VirtualService lock; blast radius
    'src/faults/container-kill/index.ts:19-21', // SIGKILL refused
  ],
  coverageAnalysis: 'perTest',
  // Two cores shared by many: one test process. Raise it locally with --concurrency N.
  concurrency: 1,
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 80, break: null },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
