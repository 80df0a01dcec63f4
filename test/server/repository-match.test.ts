// Which repository a webhook delivery is about, as pure functions (no server): an organisation
// hook delivers every repository's events and only the tracked one may trigger anything.
import { describe, expect, it } from 'vitest';
import { HOSTS } from '../../src/hosts/index.js';
import { repositoryKey, repositoryMatcher } from '../../src/server/repository.js';

const matcher = (url: string, gitHost?: { type: 'github' | 'gitea' | 'gitlab'; repository: string }, host: keyof typeof HOSTS = 'github') =>
  repositoryMatcher({ repo: { url } as never, gitHost: gitHost ? { ...gitHost, apiUrl: 'https://api.example' } as never : undefined }, HOSTS[host]);

describe('the repository key of a clone URL', () => {
  it('scp form with or without a user, https, ssh with a port: host/path, lowercased, no .git, no slashes', () => {
    expect(repositoryKey('git@GitHub.com:Acme/Chaos.git')).toBe('github.com/acme/chaos');
    expect(repositoryKey('github.com:acme/chaos')).toBe('github.com/acme/chaos');
    expect(repositoryKey('https://user:pw@GitHub.com:8443//Acme/Chaos.GIT//')).toBe('github.com/acme/chaos');
    expect(repositoryKey('ssh://git@git.internal:2222/group/sub/project.git')).toBe('git.internal/group/sub/project');
    expect(repositoryKey('git+ssh://git@git.internal/group/project.git')).toBe('git.internal/group/project');
    expect(repositoryKey('HTTPS://git.internal:443/group/project')).toBe('git.internal/group/project');
    expect(repositoryKey('https://git.internal/acme/chaos.gitx')).toBe('git.internal/acme/chaos.gitx');
    expect(repositoryKey('https://git.internal/acme/x.git.mirror')).toBe('git.internal/acme/x.git.mirror');
  });

  it('what names no repository has no key', () => {
    expect(repositoryKey('not a url')).toBeUndefined();
    expect(repositoryKey('https://github.com/')).toBeUndefined();
    expect(repositoryKey('https://github.com/.git')).toBeUndefined();
    expect(repositoryKey('git@github.com:/acme/chaos')).toBeUndefined();
    // a local path that happens to hold "user@host:" is not the scp form
    expect(repositoryKey('/srv/git@github.com:acme/chaos')).toBeUndefined();
    expect(repositoryKey('git@github.com:acme/chaos\nother')).toBeUndefined();
  });
});

describe('a delivery is about the tracked repository', () => {
  it('by the path of the clone URL, whatever its case', () => {
    const m = matcher('https://github.com/acme/chaos.git');
    expect(m({ repository: 'Acme/Chaos' })).toBe(true);
    expect(m({ repository: 'acme/chaos-two' })).toBe(false);
    expect(m({ repository: 'chaos' })).toBe(false);
    expect(m({ repository: 'github.com/acme/chaos' })).toBe(false);
  });

  it('by one of its clone URLs; no URLs and other URLs do not match', () => {
    const m = matcher('https://github.com/acme/chaos.git');
    expect(m({ repository: 'x/y', repositoryUrls: ['https://example.org/a/b', 'git@github.com:acme/chaos.git'] })).toBe(true);
    expect(m({ repository: 'x/y', repositoryUrls: ['https://gitlab.com/acme/chaos.git'] })).toBe(false);
    expect(m({ repository: 'x/y', repositoryUrls: ['not a url'] })).toBe(false);
    expect(m({ repository: 'x/y' })).toBe(false);
  });

  it('by the name configured for the host it came through, when the clone URL names another path', () => {
    const m = matcher('https://mirror.internal/chaos.git', { type: 'github', repository: 'Acme/Chaos' });
    expect(m({ repository: 'acme/chaos' })).toBe(true);
    expect(m({ repository: 'acme/other' })).toBe(false);
    expect(matcher('https://mirror.internal/chaos.git', { type: 'gitea', repository: 'Acme/Chaos' }, 'gitea')({ repository: 'acme/chaos' })).toBe(true);
    // configured for GitLab: a GitHub delivery of that name is not ours by the name
    expect(matcher('https://mirror.internal/chaos.git', { type: 'gitlab', repository: 'acme/chaos' })({ repository: 'acme/chaos' })).toBe(false);
  });

  it('a clone URL that names no repository (a local path) matches nothing by URL, not every unparsable one', () => {
    const m = matcher('/srv/git/chaos.git');
    expect(m({ repository: 'acme/chaos' })).toBe(false);
    expect(m({ repository: 'acme/chaos', repositoryUrls: ['not a url'] })).toBe(false);
    expect(m({ repository: 'acme/chaos', repositoryUrls: ['https://github.com/'] })).toBe(false);
    expect(m({ repository: '' })).toBe(false);
  });
});
