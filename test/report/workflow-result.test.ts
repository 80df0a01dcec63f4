// The workflow comment's links and text, from a real-looking record.
import { describe, expect, it } from 'vitest';
import { branchFileUrl, renderWorkflowComment, workflowMarker } from '../../src/report/workflow-result.js';
import { gamedayRun } from '../workflows/run-fixtures.js';

describe('workflow result comment', () => {
  it('links to a file on the status branch in each host layout, never with a credential', () => {
    expect(branchFileUrl('https://github.com/acme/chaos.git', 'github', 'faultline/status', 'workflows/ab/x.yaml')).toBe('https://github.com/acme/chaos/blob/faultline/status/workflows/ab/x.yaml');
    expect(branchFileUrl('https://gitlab.example/group/sub/chaos', 'gitlab', 'faultline/status', 'a.svg')).toBe('https://gitlab.example/group/sub/chaos/-/blob/faultline/status/a.svg');
    expect(branchFileUrl('https://x-access-token:s3cret@git.example/acme/chaos.git', 'gitea', 'faultline/status', 'a.svg')).toBe('https://git.example/acme/chaos/src/branch/faultline/status/a.svg');
    expect(branchFileUrl('git@github.com:acme/chaos.git', 'github', 'faultline/status', 'a.svg')).toBeUndefined();
    expect(branchFileUrl('https://github.com/acme/chaos.git', 'bitbucket', 'faultline/status', 'a.svg')).toBeUndefined();
  });

  it('shows every step with its phase, the assertions passed, the score and its parts', () => {
    const r = gamedayRun({ score: { value: 85.6, parts: [{ name: 'steps', weight: 50, value: 0.913 }, { name: 'assertions', weight: 30, value: 0.667 }, { name: 'outcome', weight: 20, value: 1 }] } });
    const body = renderWorkflowComment(r, { timeline: 'https://h/t.svg' });
    expect(body.startsWith(workflowMarker('shop-gameday'))).toBe(true);
    expect(body).toContain('### ✅ Faultline workflow `shop-gameday`: Succeeded · resilience score 85.6');
    expect(body).toContain('| &nbsp;&nbsp;↳ `kill-cart` | experiment | Succeeded |');
    expect(body).toContain('| `stress-frontend` | fault | Failed | 2026-11-30T10:01:35.000Z | 2026-11-30T10:02:05.000Z | continueOnFailure; steady state lost: frontend-up failed 3 times |');
    expect(body).toContain('| `checkout-mostly-ready` | 2/3 | 0.95 gte 0.9 |');
    expect(body).toContain('Score 85.6 = steps 0.913 × 50 + assertions 0.667 × 30 + outcome 1 × 20');
    expect(body).toContain('Pictures on the status branch: [timeline of this run](https://h/t.svg)');
  });
});
