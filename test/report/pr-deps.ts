// Dependencies of the pull-request path for tests: a real Git read of the PR head with
// isomorphic-git (GitSource.readAll's contract), and a plan stand-in for src/safety's
// planExperiment until that lands.
import fs from 'node:fs';
import git from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import type { LoadedExperiment } from '../../src/experiments/model.js';
import type { SourceFile } from '../../src/source/types.js';
import type { PlanRowLike } from '../../src/report/pr-plan.js';

export function gitReader(url: string, gitdir: string) {
  let ready: Promise<void> | undefined;
  return {
    async readAll(ref: string): Promise<{ revision: string; files: SourceFile[]; freeze: boolean }> {
      ready ??= git.init({ fs, gitdir, bare: true }).then(() => git.addRemote({ fs, gitdir, remote: 'origin', url, force: true }));
      await ready;
      await git.fetch({ fs, http, gitdir, remote: 'origin', singleBranch: false, tags: false });
      const revision = /^[0-9a-f]{40}$/.test(ref) ? ref : await git.resolveRef({ fs, gitdir, ref: `refs/remotes/origin/${ref}` });
      const files: SourceFile[] = [];
      let freeze = false;
      const walk = async (tree: string, prefix: string): Promise<void> => {
        for (const e of (await git.readTree({ fs, gitdir, oid: tree })).tree) {
          const path = `${prefix}${e.path}`;
          if (e.type === 'tree') await walk(e.oid, `${path}/`);
          else if (path === '.faultline/freeze') freeze = true;
          else if (/^experiments\/.*\.ya?ml$/.test(path)) files.push({ path, oid: e.oid, content: (await git.readBlob({ fs, gitdir, oid: e.oid })).blob });
        }
      };
      const { commit } = await git.readCommit({ fs, gitdir, oid: revision });
      await walk(commit.tree, '');
      return { revision, files, freeze };
    },
  };
}

// Stand-in for src/safety's planExperiment: the "shop" topology's ready pods per app.
const READY: Record<string, number> = { checkout: 4, cart: 3, frontend: 3 };
export async function standInPlan(loaded: LoadedExperiment[]): Promise<PlanRowLike[]> {
  return loaded.map((l) => {
    const { spec, metadata } = l.experiment;
    const app = spec.target.selector.matchLabels?.app ?? '';
    const ready = READY[app] ?? 0;
    const mode = spec.target.mode;
    const hit = mode.type === 'all' ? ready : mode.type === 'one' ? 1 : mode.type === 'fixed' ? mode.value : Math.max(1, Math.floor((ready * mode.value) / 100));
    const percent = ready ? (hit / ready) * 100 : 0;
    const cap = spec.safety?.maxBlastRadiusPercent ?? 50;
    const guards = [
      { guard: 'protected-namespace', ok: spec.target.namespace !== 'kube-system', reason: `namespace ${spec.target.namespace}` },
      { guard: 'opt-in', ok: true, reason: 'faultline.dev/chaos=enabled' },
      { guard: 'blast-radius', ok: percent <= cap, reason: `${Math.round(percent)}% of Deployment/${app} ${percent <= cap ? '<=' : '>'} ${cap}%` },
    ];
    return {
      name: metadata.name,
      file: l.file,
      fault: spec.fault.type,
      targets: Array.from({ length: hit }, (_, i) => ({ kind: 'Pod' as const, namespace: spec.target.namespace, name: `${app}-7d9f-${i}`, owner: `Deployment/${app}` })),
      blastRadius: [{ workload: `Deployment/${app}`, namespace: spec.target.namespace, hit, ready, percent }],
      guards,
      allowed: guards.every((g) => g.ok),
      ...(spec.schedule ? { schedule: spec.schedule.cron } : {}),
    };
  });
}
