import { describe, expect, it } from 'vitest';
import { normaliseGitea, normaliseGithub, normaliseGitlab } from '../../src/server/index.js';
import { fixture, githubExample } from './helpers.js';

describe('event normalisation', () => {
  it('GitHub: every pull_request example normalises; closed-unmerged carries no merge sha', () => {
    const closed = githubExample('pull_request', (e) => e.action === 'closed');
    const n = normaliseGithub('pull_request', 'd1', closed);
    expect(n).toMatchObject({ kind: 'pull_request', event: { action: 'closed', merged: false } });
    expect(n.kind === 'pull_request' && n.event.mergeCommitSha).toBeFalsy();
    const merged = { ...closed, pull_request: { ...(closed.pull_request as object), merged: true } };
    expect(normaliseGithub('pull_request', 'd2', merged)).toMatchObject({ event: { merged: true, mergeCommitSha: 'c4295bd74fb0f4fda03689c3df3f2803b658fd85' } });
  });

  it('GitHub: a deleted branch is a push with deleted=true; a payload without ref is invalid', () => {
    const del = { ...githubExample('push', (e) => e.ref === 'refs/heads/master'), after: '0'.repeat(40), deleted: true };
    expect(normaliseGithub('push', 'd', del)).toMatchObject({ kind: 'push', event: { deleted: true } });
    expect(normaliseGithub('push', 'd', { after: 'abc', repository: { full_name: 'a/b' } })).toMatchObject({ kind: 'invalid' });
    expect(normaliseGithub('push', 'd', [1, 2])).toMatchObject({ kind: 'invalid' });
  });

  it('GitLab: open/merge/title-only update map to opened/closed+merged/edited', () => {
    const mr = JSON.parse(fixture('gitlab-merge-request.json').toString()) as { object_attributes: Record<string, unknown> };
    const withAttrs = (a: Record<string, unknown>) => ({ ...mr, object_attributes: { ...mr.object_attributes, ...a } });
    expect(normaliseGitlab('Merge Request Hook', 'd', withAttrs({ action: 'open', oldrev: undefined }))).toMatchObject({ event: { action: 'opened', merged: false } });
    expect(normaliseGitlab('Merge Request Hook', 'd', withAttrs({ action: 'update', oldrev: undefined }))).toMatchObject({ event: { action: 'edited' } });
    expect(normaliseGitlab('Merge Request Hook', 'd', withAttrs({ action: 'merge', state: 'merged', merge_commit_sha: 'abc123' }))).toMatchObject({
      event: { action: 'closed', merged: true, mergeCommitSha: 'abc123' },
    });
    expect(normaliseGitlab('Tag Push Hook', 'd', {})).toEqual({ kind: 'ignored', reason: 'event' });
  });

  it('Gitea: pull_request_sync deliveries are pull requests too', () => {
    const pr = JSON.parse(fixture('gitea-pull-request.json').toString()) as unknown;
    expect(normaliseGitea('pull_request_sync', 'd', pr)).toMatchObject({ kind: 'pull_request', event: { action: 'synchronize', number: 12 } });
    expect(normaliseGitea('issues', 'd', pr)).toEqual({ kind: 'ignored', reason: 'event' });
  });
});
