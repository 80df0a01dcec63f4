// Desired (from Git) against applied → one plan item per experiment. Pure: no I/O, no clock.
import type { Problem } from '../experiments/model.js';
import type { PlanInput, PlanItem, ReconcilePlan } from './types.js';

export function planReconcile(input: PlanInput): ReconcilePlan {
  const { revision, load, applied, freeze } = input;

  const problemsByFile = new Map<string, Problem[]>();
  for (const p of load.problems) {
    if (!p.file) continue;
    const list = problemsByFile.get(p.file);
    if (list) list.push(p);
    else problemsByFile.set(p.file, [p]);
  }

  const items: PlanItem[] = [];
  const desired = new Set<string>();
  const invalid = new Set<string>();
  const invalidFiles = new Set<string>();

  for (const e of load.experiments) {
    const name = e.experiment.metadata.name;
    const problems = problemsByFile.get(e.file);
    if (problems) {
      // A file with any problem is blocked as a whole: its valid documents wait for the fix too.
      invalid.add(name);
      invalidFiles.add(e.file);
      items.push({ name, action: 'invalid', file: e.file, specHash: e.specHash, revision, problems });
      continue;
    }
    desired.add(name);
    const prev = applied.get(name);
    const base = { name, file: e.file, specHash: e.specHash, revision, experiment: e };
    if (e.experiment.spec.suspend) {
      const already = prev !== undefined && prev.suspended && prev.specHash === e.specHash;
      items.push({ ...base, action: already ? 'unchanged' : 'suspend' });
    } else if (!prev) {
      items.push({ ...base, action: 'create' });
    } else if (prev.specHash !== e.specHash || prev.suspended) {
      items.push({ ...base, action: 'update' });
    } else {
      items.push({ ...base, action: 'unchanged' });
    }
  }

  if (problemsByFile.size > 0) {
    // Names that lived in a now-broken file keep their applied record: we cannot tell whether
    // the author removed them or only broke the YAML, so nothing is deleted on their account.
    const appliedByFile = new Map<string, string[]>();
    for (const r of applied.values()) {
      if (!problemsByFile.has(r.file)) continue;
      const list = appliedByFile.get(r.file);
      if (list) list.push(r.name);
      else appliedByFile.set(r.file, [r.name]);
    }
    for (const [file, problems] of problemsByFile) {
      const names = new Set([...(appliedByFile.get(file) ?? []), ...(input.previousFiles?.get(file) ?? [])]);
      for (const name of names) {
        if (desired.has(name)) continue; // validly defined elsewhere now: that definition wins
        if (invalid.has(name)) continue;
        invalid.add(name);
        invalidFiles.add(file);
        items.push({ name, action: 'invalid', file, specHash: applied.get(name)?.specHash, revision, problems });
      }
      if (!invalidFiles.has(file)) {
        // Nothing known by name in this file: report the file itself.
        items.push({ name: file, action: 'invalid', file, revision, problems });
      }
    }
  }

  for (const r of applied.values()) {
    if (desired.has(r.name) || invalid.has(r.name)) continue;
    items.push({ name: r.name, action: 'delete', file: r.file, specHash: r.specHash, revision });
  }

  items.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { revision, items, freeze };
}
